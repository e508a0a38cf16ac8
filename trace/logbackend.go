package trace

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/internal/audit"
	"github.com/profgen/profgen/internal/cgroup"
	"github.com/profgen/profgen/internal/errs"
	"github.com/profgen/profgen/internal/landlock"
	"github.com/profgen/profgen/internal/proc"
	iseccomp "github.com/profgen/profgen/internal/seccomp"
	"github.com/profgen/profgen/recording"
)

// LogOptions configure the log backend.
type LogOptions struct {
	// Filter is the seccomp program the target runs under, as raw
	// struct sock_filter instructions (filter.Program makes one from a
	// libseccomp filter). Syscalls it answers with SECCOMP_RET_LOG are
	// recorded. Nil means DefaultLogFilter: every syscall is logged. With
	// --base it allows what the base profile allows and logs the rest.
	Filter []byte
	// FilterFlags are seccomp(2) flags the launcher loads Filter with:
	// SECCOMP_FILTER_FLAG_LOG has the kernel audit every action but
	// ALLOW, denials included. TSYNC is refused.
	FilterFlags uint
	// Codes, when not empty, limits what is recorded to records whose
	// seccomp action is listed, as audit records carry it: the filter's
	// return value without its data (SECCOMP_RET_ERRNO, not the errno).
	Codes []uint32
	// RcvBuf is the audit socket's receive buffer; zero means
	// audit.DefaultRcvBuf (64 MiB).
	RcvBuf int
	// Paths asks for what Landlock governs (BackendConfig.Paths): seccomp's
	// audit records carry no paths, so the recording says it has none.
	Paths bool
	// Landlock, when not nil, is a Landlock ruleset the launcher applies
	// before the filter (live replay under Landlock; set its Log to have
	// the kernel audit the target's denials).
	Landlock *landlock.Ruleset
	// OnLandlock, when not nil, receives each Landlock denial of the
	// target's (attributed as its seccomp records are), from the
	// backend's reader goroutine, until Collect. Landlock audits its
	// denials only while audit is enabled (audit.EnableForLandlock).
	OnLandlock func(audit.LandlockDenial)
}

// Log is the SCMP_ACT_LOG backend: the target runs under a seccomp filter
// whose action for what is to be recorded is SECCOMP_RET_LOG, and the
// kernel's audit records of those calls are read from the audit netlink
// multicast group.
//
// Attribution: the launcher (see MaybeLauncher) gives the target a fresh
// audit session id before it execs, which every thread and child inherits;
// only records with that ses= are taken. The launcher's own calls between
// loading the filter and its execve (made under the thread name
// launcherComm) are dropped; the execve is counted. If
// the session cannot be changed, records are taken by pid from the target's
// cgroup instead, and the recording says so. A process of the target that
// makes a session of its own (pam_loginuid in a login daemon) is followed
// by its pid (seen before in the target's session) or its cgroup, and its
// new session is then taken too.
//
// Drain: records reach the multicast group asynchronously, in the order the
// kernel queued them. Collect, called once the target tree is gone, has a
// thread of profgen itself log one call under a marker thread name, and
// waits for that record: every record of the target was queued before it.
//
// Evidence: each record names the executable that made the call (exe=)
// and carries its time stamp, from which the first sighting of each
// syscall is taken and, once Record says the target is ready
// (PhaseMarker), its phase by the serial numbers of the records
// (attributor.note).
type Log struct {
	filter []byte
	flags  uint // seccomp(2) flags of the filter
	paths  bool // LogOptions.Paths: say the recording has no landlock section
	reader *audit.Reader

	// the launcher's pipes: parent ends and child ends
	filterW, statusR *os.File
	filterR, statusW *os.File
	cgroup           *Cgroup
	// landlock is the ruleset the launcher applies (LogOptions.Landlock),
	// landlockR the child's end of the pipe it is read from.
	landlock   *landlock.Ruleset
	landlockR  *os.File
	onLandlock func(audit.LandlockDenial)

	events atomic.Uint64
	closed atomic.Bool
	done   chan struct{} // closed when the reader goroutine returns
	// markers pairs the drain markers profgen emits with their records.
	markers *audit.Markers

	mu sync.Mutex
	// state below is guarded by mu
	attributor
	// reader counters when the recording started
	missedAtStart, malformedAtStart, overrunsAtStart uint64
	readErr                                          error
	notes                                            []string

	closeOnce sync.Once
}

// NewLog checks that seccomp logging works, opens the audit socket and
// starts reading. The caller must Close it.
func NewLog(opts LogOptions) (*Log, error) {
	if err := checkSeccompLog(); err != nil {
		return nil, err
	}
	arch, err := abi.Native()
	if err != nil {
		return nil, err
	}
	native, err := arch.Audit()
	if err != nil {
		return nil, err
	}
	execveNr, err := abi.SyscallNumber(arch, "execve")
	if err != nil {
		return nil, err
	}
	prog := opts.Filter
	if prog == nil {
		if prog, err = DefaultLogFilter(); err != nil {
			return nil, err
		}
	}
	if _, err := iseccomp.DecodeFilter(prog); err != nil {
		return nil, fmt.Errorf("log backend: %w", err)
	}
	if opts.FilterFlags&unix.SECCOMP_FILTER_FLAG_TSYNC != 0 {
		return nil, errors.New("log backend: the launcher filters its own thread only: TSYNC cannot be set")
	}
	l := &Log{
		filter:     prog,
		flags:      opts.FilterFlags,
		paths:      opts.Paths,
		landlock:   opts.Landlock,
		onLandlock: opts.OnLandlock,
		done:       make(chan struct{}),
		markers:    audit.NewMarkers(),
		attributor: newAttributor(os.Getpid(), native, int64(execveNr), slices.Clone(opts.Codes)),
	}
	aopts := audit.Options{RcvBuf: opts.RcvBuf}
	if opts.OnLandlock != nil {
		aopts.OnLandlock = l.takeLandlock
	}
	r, err := audit.Open(aopts)
	if err != nil {
		return nil, auditError(err)
	}
	l.reader = r
	go l.read()
	if err := l.probe(); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// probeTimeout bounds how long NewLog waits for its test record.
const probeTimeout = 5 * time.Second

// probe logs one call and waits for its record, so that a kernel that
// emits no audit records (booted with audit=0) fails NewLog instead of
// giving an empty recording.
func (l *Log) probe() error {
	drained, err := l.drain(probeTimeout)
	if err != nil {
		return err
	}
	if !drained {
		return &Unsupported{Op: "log backend", Feature: fmt.Sprintf("a call logged by seccomp produced no audit record within %v", probeTimeout),
			Fix: "is audit disabled on the kernel command line (audit=0)? Boot without it"}
	}
	return nil
}

// readError returns why the reader goroutine stopped.
func (l *Log) readError() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.readErr != nil {
		return l.readErr
	}
	return audit.ErrClosed
}

// auditError says an audit error is the log backend's. The audit
// package's own errors of a missing feature match ErrNotSupported.
func auditError(err error) error {
	return fmt.Errorf("log backend: %w", err)
}

// checkSeccompLog checks that the kernel has SECCOMP_RET_LOG and logs it.
func checkSeccompLog() error {
	avail, err := os.ReadFile("/proc/sys/kernel/seccomp/actions_avail")
	if err != nil {
		return &Unsupported{Op: "log backend", Feature: "seccomp filters (CONFIG_SECCOMP_FILTER) are not available",
			Fix: "use a kernel built with CONFIG_SECCOMP_FILTER", Err: err}
	}
	if !slices.Contains(strings.Fields(string(avail)), "log") {
		return &Unsupported{Op: "log backend", Feature: "the kernel has no SECCOMP_RET_LOG", Fix: "use Linux 4.14 or later"}
	}
	logged, err := os.ReadFile("/proc/sys/kernel/seccomp/actions_logged")
	if err != nil {
		return fmt.Errorf("log backend: read seccomp actions_logged: %w", err)
	}
	if !slices.Contains(strings.Fields(string(logged)), "log") {
		return &Unsupported{Op: "log backend", Feature: "the kernel does not log SECCOMP_RET_LOG",
			Fix: fmt.Sprintf("add \"log\" to the sysctl kernel.seccomp.actions_logged (now %q)", strings.TrimSpace(string(logged)))}
	}
	return nil
}

// DefaultLogFilter returns the filter the log backend installs when
// LogOptions.Filter is nil: every call of the native ABI is logged, and so
// is every call of another ABI (compat or x32), which the backend counts in
// a note instead of recording: the recording's ABI is the native one.
func DefaultLogFilter() ([]byte, error) {
	return iseccomp.LogAll(), nil
}

var (
	_ Backend         = (*Log)(nil)
	_ DistinctCounter = (*Log)(nil)
	_ PhaseMarker     = (*Log)(nil)
	_ StopMarker      = (*Log)(nil)
)

// Name implements Backend.
func (l *Log) Name() recording.BackendName { return recording.BackendLog }

// Prepare wraps t.Cmd in the launcher: profgen re-executes itself, installs
// the filter and execs the target. t.Cmd's stdio, environment, directory,
// extra files and SysProcAttr (the cgroup it starts in) are kept.
func (l *Log) Prepare(t *Target) error {
	if l.closed.Load() {
		return errs.Closed("log backend")
	}
	cmd := t.Cmd
	if cmd.Err != nil {
		return cmd.Err
	}
	if cmd.Process != nil {
		return errors.New("log backend: target already started")
	}
	if l.filterW != nil {
		return errors.New("log backend: Prepare called twice")
	}
	var err error
	if l.filterR, l.filterW, err = os.Pipe(); err != nil {
		return fmt.Errorf("launcher pipe: %w", err)
	}
	if l.statusR, l.statusW, err = os.Pipe(); err != nil {
		return fmt.Errorf("launcher pipe: %w", err)
	}
	filterFD := 3 + len(cmd.ExtraFiles)
	cmd.ExtraFiles = append(cmd.ExtraFiles, l.filterR, l.statusW)
	landlockArg := "-"
	if l.landlock != nil {
		data, err := json.Marshal(l.landlock)
		if err != nil {
			return fmt.Errorf("landlock ruleset: %w", err)
		}
		var w *os.File
		if l.landlockR, w, err = os.Pipe(); err != nil {
			return fmt.Errorf("launcher pipe: %w", err)
		}
		go func() { w.Write(data); w.Close() }() // the launcher reads it first
		landlockArg = strconv.Itoa(3 + len(cmd.ExtraFiles))
		cmd.ExtraFiles = append(cmd.ExtraFiles, l.landlockR)
	}
	args := []string{"profgen-launcher", launcherArg, strconv.Itoa(filterFD), strconv.Itoa(filterFD + 1), strconv.FormatUint(uint64(l.flags), 10), landlockArg, cmd.Path}
	cmd.Args = append(args, cmd.Args...)
	cmd.Path = "/proc/self/exe"
	l.cgroup = t.Cgroup
	return nil
}

// Start learns the target's audit session from the launcher, lets it load
// the filter and waits until it has execed the target.
func (l *Log) Start(pid int) error {
	if l.closed.Load() {
		return errs.Closed("log backend")
	}
	if l.statusR == nil {
		return errors.New("log backend: Start without Prepare")
	}
	// The child has its copies; without closing ours, end of file never
	// comes.
	l.filterR.Close()
	l.statusW.Close()
	if l.landlockR != nil {
		l.landlockR.Close()
	}
	br := bufio.NewReader(l.statusR)
	kind, msg, err := launcherStatus(br)
	if err != nil {
		return fmt.Errorf("log backend launcher: no status: %w", err)
	}
	if err := l.attribute(pid, kind, msg); err != nil {
		return err
	}
	// The filter doubles as the go-ahead.
	_, werr := l.filterW.Write(l.filter)
	l.filterW.Close()
	if werr != nil {
		return fmt.Errorf("log backend: send filter to launcher: %w", werr)
	}
	// End of file: the status pipe was closed by a successful exec.
	kind, msg, err = launcherStatus(br)
	switch {
	case err == io.EOF:
		return nil
	case err != nil:
		return fmt.Errorf("log backend launcher: %w", err)
	}
	if kind == launcherExecError && l.landlock != nil && strings.HasSuffix(msg, unix.EACCES.Error()) {
		// The ruleset refused the target's own execve: that is the
		// target's first denial (Landlock's audit record names it),
		// not a failure to record; the launcher exits 127.
		l.mu.Lock()
		l.notes = append(l.notes, "the target could not be executed under the Landlock ruleset: "+msg)
		l.mu.Unlock()
		return nil
	}
	return fmt.Errorf("log backend launcher: %s", msg)
}

// attribute sets up how records are attributed to the target, from the
// launcher's first status line.
func (l *Log) attribute(pid int, kind, msg string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch kind {
	case launcherSes:
		v, err := strconv.ParseUint(msg, 10, 32)
		if err != nil {
			return fmt.Errorf("log backend launcher: bad session %q", msg)
		}
		l.bySessionOf(uint32(v))
	case launcherNoSession:
		if l.cgroup == nil {
			return &Unsupported{Op: "log backend",
				Feature: fmt.Sprintf("the target cannot be told apart from other processes: no fresh audit session (%s) and no cgroup v2", msg),
				Fix:     "mount cgroup v2 (mount -t cgroup2 none /sys/fs/cgroup/unified) or let profgen write /proc/self/loginuid"}
		}
		l.notes = append(l.notes, fmt.Sprintf("no fresh audit session could be made (%s): records were attributed by the pids of the target's cgroup", msg))
	default:
		return fmt.Errorf("log backend launcher: %s %s", kind, msg)
	}
	if l.cgroup != nil {
		mnt, err := cgroup.V2Mount()
		if err != nil {
			return err
		}
		l.byCgroup("/" + strings.TrimPrefix(strings.TrimPrefix(l.cgroup.Path, mnt), "/"))
	}
	l.launcherPid = pid
	l.started = true
	l.missedAtStart = l.reader.Missed()
	l.malformedAtStart = l.reader.Malformed()
	l.overrunsAtStart = l.reader.Overruns()
	return nil
}

// read runs in its own goroutine until the reader is closed.
func (l *Log) read() {
	defer close(l.done)
	for {
		rec, err := l.reader.Next()
		if err != nil {
			if !errors.Is(err, audit.ErrClosed) {
				l.mu.Lock()
				l.readErr = err
				l.mu.Unlock()
			}
			l.markers.Stop(err)
			return
		}
		l.take(rec)
	}
}

// takeLandlock hands a Landlock denial of the target's, attributed by the
// process of its event as a seccomp record is, to LogOptions.OnLandlock.
func (l *Log) takeLandlock(d audit.LandlockDenial) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !d.HasProcess || !l.started || l.collected || d.Process.Pid == l.self {
		return
	}
	if l.att.Attribute(d.Process).In() {
		l.onLandlock(d)
	}
}

// take handles one record: profgen's own audit markers, then the
// target's calls (attributor.count).
func (l *Log) take(rec audit.Record) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if rec.Pid == l.self {
		l.readyMarkerIs(rec)
		l.markers.Take(rec)
		return
	}
	if l.count(rec) {
		l.events.Add(1)
	}
}

// attributor counts the target's audit records; which records are the
// target's is audit.Attributor's to say: by audit session (the launcher's
// fresh one and any a process of the target makes), else by the pid's
// cgroup. It is pure logic over records; only the cgroup check reads
// /proc, through procCgroup. The Log backend holds one under its mutex.
type attributor struct {
	self     int      // profgen's pid: its records are never the target's
	native   uint32   // AUDIT_ARCH_* of the recorded ABI
	execveNr int64    // the launcher's execve of the target is counted
	codes    []uint32 // actions to record; empty: all

	started, collected bool
	ses                uint32
	bySession          bool
	cgroupRel          string // cgroup fallback: the cgroup's path in the hierarchy
	launcherPid        int
	counts             map[Key]uint64
	foreign            map[string]uint64 // calls of another ABI, by ABI
	unattributed       uint64            // cgroup fallback: records of pids gone before they were checked
	otherSession       uint64            // records of target processes that made a session of their own
	// att says which records are the target's: its Sessions are the
	// launcher's and any its processes made (bySessionOf), its Member
	// the cgroup fallback (byCgroup).
	att audit.Attributor
	// evidence is, per key of counts, what the records said of its
	// calls. readyMarker is the audit marker profgen logged when the
	// target was ready (MarkReady); once its record is read, marked is
	// set and readySerial is its serial number. pending are the calls
	// counted in between, which markReady may move to serving.
	evidence    map[Key]*logEvidence
	readyMarker *audit.Marker
	marked      bool
	readySerial uint64
	pending     []pendingCall
	// stopMarker is the audit marker profgen logged when it began to
	// stop the target (MarkStopping) at stopAt; stopSerial is its
	// record's serial number once read.
	stopMarker *audit.Marker
	stopAt     time.Time
	stopSerial uint64

	// procCgroup returns /proc/PID/cgroup.
	procCgroup func(pid int) ([]byte, error)
}

func newAttributor(self int, native uint32, execveNr int64, codes []uint32) attributor {
	return attributor{
		self: self, native: native, execveNr: execveNr, codes: codes,
		counts:   map[Key]uint64{},
		evidence: map[Key]*logEvidence{},
		foreign:  map[string]uint64{},
		// No session yet: nothing is the target's (an empty set, never
		// the attributor's keep-all).
		att: audit.Attributor{Sessions: map[uint32]bool{}, Cache: true},
		procCgroup: func(pid int) ([]byte, error) {
			return os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
		},
	}
}

// bySessionOf attributes records by the launcher's fresh audit session
// ses, and the sessions the target's processes make from it.
func (l *attributor) bySessionOf(ses uint32) {
	l.ses, l.bySession = ses, true
	l.att.Sessions[ses] = true
	l.att.Follow = true
}

// byCgroup attributes the records of no target session by their pid's
// cgroup: rel, the target cgroup's path in the hierarchy, or below it.
func (l *attributor) byCgroup(rel string) {
	l.cgroupRel = rel
	l.att.Member = l.inCgroup
}

// count attributes one record and reports whether it was counted (as a
// call of the native ABI, or of another one).
func (l *attributor) count(rec audit.Record) bool {
	if rec.Pid == l.self {
		return false
	}
	if !l.started || l.collected {
		return false
	}
	switch v := l.att.Attribute(rec); v.Why {
	case audit.Followed:
		l.otherSession++
	case audit.Gone:
		// Gone before its record was read: it may have been the
		// target's. Counted as lost, not guessed.
		if !l.bySession {
			l.unattributed++
		}
		return false
	case audit.Out:
		return false
	}
	native := rec.Arch == l.native && !rec.Compat && !rec.IsX32()
	launcher := rec.Pid == l.launcherPid && rec.Comm == launcherComm
	if launcher {
		// The launcher's own calls up to its execve of the target; the
		// execve (logged unless a base filter allows it) starts the
		// recording and is counted.
		if !native || rec.Syscall != l.execveNr {
			return false
		}
	}
	if len(l.codes) > 0 && !slices.Contains(l.codes, rec.Code) {
		return false
	}
	if !native {
		l.foreign[foreignABI(rec)]++
		return true
	}
	k := Key{Nr: uint32(rec.Syscall)}
	l.counts[k]++
	l.note(k, rec, launcher)
	return true
}

// logEvidence is what the records of one Key said: the executables
// (exe=), the earliest time stamp, and the calls before and after the
// target was ready.
type logEvidence struct {
	exes  map[string]bool
	first time.Time
	// firstSerial is the least serial number of its records (0: none).
	firstSerial uint64
	n           [2]uint64 // [0]: before ready (startup, or run without readiness); [1]: serving
}

// pendingCall is a call counted in the first phase while the ready
// marker's record was awaited: its key and audit serial number.
type pendingCall struct {
	key    Key
	serial uint64
}

// note adds a counted record to the evidence of k: its executable (not
// for the launcher's execve, which profgen's launcher made), its time
// stamp and its phase. The phase is told by the record's audit serial
// number against the ready marker's (markReady): serial numbers are
// taken from one counter as the kernel logs each call, so they order the
// calls of every CPU, as time stamps of the coarse clock in whole
// milliseconds cannot.
func (l *attributor) note(k Key, rec audit.Record, launcher bool) {
	ev := l.evidence[k]
	if ev == nil {
		ev = &logEvidence{exes: map[string]bool{}}
		l.evidence[k] = ev
	}
	at := auditTime(rec.Time)
	if !at.IsZero() && (ev.first.IsZero() || at.Before(ev.first)) {
		ev.first = at
	}
	if rec.Serial != 0 && (ev.firstSerial == 0 || rec.Serial < ev.firstSerial) {
		ev.firstSerial = rec.Serial
	}
	if !launcher {
		ev.exes[rec.Exe] = true
	}
	switch {
	case l.marked:
		// A record without a serial number goes to serving, the
		// larger profile's side.
		if rec.Serial == 0 || rec.Serial > l.readySerial {
			ev.n[1]++
			return
		}
	case l.readyMarker != nil:
		l.pending = append(l.pending, pendingCall{key: k, serial: rec.Serial})
	}
	ev.n[0]++
}

// awaitReady notes the marker profgen logged when the target was ready
// (MarkReady); the calls counted until its record arrives are kept
// pending.
func (l *attributor) awaitReady(m audit.Marker) {
	l.readyMarker = &m
}

// readyMarkerIs handles a record of profgen's own: when it is the ready
// marker's, the calls logged after it are serving, those counted already
// included.
func (l *attributor) readyMarkerIs(rec audit.Record) {
	if l.stopMarker != nil && l.stopSerial == 0 && l.stopMarker.Is(rec) {
		l.stopSerial = rec.Serial
	}
	if l.readyMarker == nil || l.marked || !l.readyMarker.Is(rec) {
		return
	}
	l.markReady(rec.Serial)
}

// markReady makes serial the end of start-up: pending calls logged after
// it (or without a serial number) move to serving.
func (l *attributor) markReady(serial uint64) {
	l.marked, l.readySerial = true, serial
	for _, p := range l.pending {
		if ev := l.evidence[p.key]; (p.serial == 0 || p.serial > serial) && ev.n[0] > 0 {
			ev.n[0]--
			ev.n[1]++
		}
	}
	l.pending = nil
}

// observed adds the evidence of the counted calls to obs.
func (l *attributor) observed(obs *Observations) {
	names := [2]string{recording.PhaseRun, recording.PhaseServing}
	if l.readyMarker != nil {
		names[0] = recording.PhaseStartup
	}
	if !l.marked && l.readyMarker != nil {
		// The marker's record never came (the drain confirms what
		// was read): the calls since it was logged are counted in
		// serving, the larger profile's side.
		l.markReady(0)
	}
	for k, e := range l.evidence {
		ev := obs.evidence(k)
		for x := range e.exes {
			if path.IsAbs(x) {
				ev.Exes[x] = true
			} else {
				ev.UnnamedExes++ // no exe= field, or "(null)"
			}
		}
		first := e.first
		if l.stopSerial != 0 && e.firstSerial > l.stopSerial && first.Before(l.stopAt) {
			// Logged after the stop marker, stamped before it by the
			// coarse clock: its shutdown's.
			first = l.stopAt
		}
		ev.seenAt(first)
		for ph, n := range e.n {
			ev.count(names[ph], n)
		}
	}
	l.evidence = map[Key]*logEvidence{}
}

// auditTime reads an audit record's time stamp (seconds.milliseconds,
// audit.Record.Time); the zero time when it has none.
func auditTime(stamp string) time.Time {
	sec, frac, ok := strings.Cut(stamp, ".")
	s, err1 := strconv.ParseInt(sec, 10, 64)
	ms, err2 := strconv.ParseInt(frac, 10, 64)
	if !ok || err1 != nil || err2 != nil || len(frac) != 3 {
		return time.Time{}
	}
	return time.Unix(s, ms*int64(time.Millisecond))
}

// MarkStopping implements StopMarker: audit time stamps come from the
// kernel's coarse clock (a tick behind, in whole milliseconds), so a call
// of the target's shutdown can be stamped a few milliseconds before at.
// An audit marker logged now divides the calls by serial number: a call
// whose records all came after it is first seen at at the earliest.
func (l *Log) MarkStopping(at time.Time) error {
	if l.closed.Load() {
		return errs.Closed("log backend")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopMarker != nil {
		return errors.New("log backend: MarkStopping called twice")
	}
	m, err := audit.EmitMarker()
	if err != nil {
		return fmt.Errorf("log backend: mark the target stopped: %w", err)
	}
	l.stopMarker, l.stopAt = &m, at
	return nil
}

// MarkReady implements PhaseMarker: the calls logged from now on are
// counted in the serving phase, those before in startup. It logs an audit
// marker, under the lock the reader takes for every record, so that the
// marker's record is recognised whenever it arrives; its serial number
// divides the phases.
func (l *Log) MarkReady(time.Time) error {
	if l.closed.Load() {
		return errs.Closed("log backend")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.readyMarker != nil {
		return errors.New("log backend: MarkReady called twice")
	}
	m, err := audit.EmitMarker()
	if err != nil {
		return fmt.Errorf("log backend: mark the target ready: %w", err)
	}
	l.awaitReady(m)
	return nil
}

// foreignABI names the ABI of a call not of the native one
// (audit.Record.ABI), marking a compat entry.
func foreignABI(rec audit.Record) string {
	a, err := rec.ABI()
	name := string(a)
	if err != nil {
		name = fmt.Sprintf("arch %#x", rec.Arch)
	}
	if rec.Compat && !rec.IsX32() {
		name += " (compat)"
	}
	return name
}

// inCgroup is the attributor's membership function: whether pid belongs
// to the target's cgroup (or one below it); an error when it is gone.
func (l *attributor) inCgroup(pid int) (string, bool, error) {
	if pid == l.launcherPid {
		return "", true, nil
	}
	data, err := l.procCgroup(pid)
	if err != nil {
		return "", false, err
	}
	rel, in, _ := proc.ParseCgroups(data)
	return "", in && (rel == l.cgroupRel || strings.HasPrefix(rel, l.cgroupRel+"/")), nil
}

// Events implements Backend.
func (l *Log) Events() uint64 { return l.events.Load() }

// Distinct implements DistinctCounter: the number of distinct syscalls
// seen so far (audit records carry no arguments).
func (l *Log) Distinct() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.counts)
}

// drainTimeout is how long Collect waits for its marker record before it
// sends another; drainAttempts how many it sends.
const (
	drainTimeout  = 2 * time.Second
	drainAttempts = 5
)

// Collect implements Backend. It must be called once the target tree is
// gone: it waits until every record queued until then has been read.
func (l *Log) Collect() (*Observations, error) {
	if l.closed.Load() {
		return nil, errs.Closed("log backend")
	}
	l.mu.Lock()
	started := l.started
	l.mu.Unlock()
	if !started {
		return nil, errors.New("log backend: Collect without Start")
	}

	drained := false
	for i := 0; i < drainAttempts && !drained; i++ {
		var err error
		if drained, err = l.drain(drainTimeout); err != nil {
			return nil, err
		}
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	l.collected = true
	obs := &Observations{
		Counts: l.counts,
		Scope:  recording.ScopeSeccomp,
		Notes:  append([]string(nil), l.notes...),
	}
	l.counts = map[Key]uint64{}
	l.observed(obs)
	// Records the stream skipped, by audit serial numbers; an overflow
	// the kernel reported counts at least one.
	// Missed can go down (a late record fills a gap), so below its value
	// at the start: floor at zero rather than wrap.
	dropped := l.reader.Missed() - min(l.missedAtStart, l.reader.Missed())
	overruns := l.reader.Overruns() - l.overrunsAtStart
	malformed := l.reader.Malformed() - l.malformedAtStart
	obs.Lost = max(dropped, overruns) + malformed + l.unattributed
	switch {
	case overruns > 0:
		obs.Notes = append(obs.Notes, fmt.Sprintf("the audit socket's receive buffer (%d bytes) overflowed %d times and about %d audit records were lost, by their serial numbers (records of every process count, so not all need have been the target's)", l.reader.RcvBuf(), overruns, max(dropped, overruns)))
	case dropped > 0:
		obs.Notes = append(obs.Notes, fmt.Sprintf("%d audit records were missing from the stream, by their serial numbers (the kernel dropped them: audit backlog or rate limit; records of every process count)", dropped))
	}
	if malformed > 0 {
		obs.Notes = append(obs.Notes, fmt.Sprintf("%d seccomp audit records could not be parsed", malformed))
	}
	if l.unattributed > 0 {
		obs.Notes = append(obs.Notes, fmt.Sprintf("%d records came from processes that ended before they could be attributed to the target's cgroup", l.unattributed))
	}
	if l.otherSession > 0 {
		obs.Notes = append(obs.Notes, fmt.Sprintf("%d calls came from processes of the target that started an audit session of their own; they were followed by pid, cgroup and their new session", l.otherSession))
	}
	if !drained {
		obs.Lost++
		obs.Notes = append(obs.Notes, fmt.Sprintf("the audit records were not confirmed complete (no drain marker after %d attempts): the last calls may be missing", drainAttempts))
	}
	if len(l.foreign) > 0 {
		abis := make([]string, 0, len(l.foreign))
		for a, n := range l.foreign {
			abis = append(abis, fmt.Sprintf("%s: %d", a, n))
		}
		sort.Strings(abis)
		obs.Notes = append(obs.Notes, fmt.Sprintf("calls through an ABI other than the native one were logged but not recorded (%s); a profile of this recording denies them", strings.Join(abis, ", ")))
	}
	if l.paths {
		obs.Notes = append(obs.Notes, NoPathsNote)
	}
	return obs, nil
}

// NoPathsNote is the note of a log backend's recording made with
// BackendConfig.Paths.
const NoPathsNote = "no landlock section: the log backend records no paths (seccomp's audit records carry syscall numbers and registers, not the files, directories and ports Landlock governs); record with the ebpf backend for them"

// drain emits an audit marker and waits up to timeout for its record
// (audit.Markers): false when the time is up.
func (l *Log) drain(timeout time.Duration) (bool, error) {
	m, err := audit.EmitMarker()
	if err != nil {
		return false, fmt.Errorf("log backend: drain: %w", err)
	}
	switch err := l.markers.Wait(m, timeout); {
	case err == nil:
		return true, nil
	case errors.Is(err, audit.ErrMarkerTimeout):
		return false, nil
	default:
		return false, fmt.Errorf("log backend: audit reader stopped: %w", l.readError())
	}
}

// Close implements Backend.
func (l *Log) Close() error {
	var err error
	l.closeOnce.Do(func() {
		l.closed.Store(true)
		for _, f := range []*os.File{l.filterR, l.filterW, l.statusR, l.statusW, l.landlockR} {
			if f != nil {
				f.Close()
			}
		}
		err = l.reader.Close()
		<-l.done
	})
	return err
}
