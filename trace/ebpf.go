package trace

import (
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/internal/cgroup"
	"github.com/profgen/profgen/internal/errs"
	"github.com/profgen/profgen/recording"
	"github.com/profgen/profgen/trace/dispatch"
)

// Values shared with bpf/recorder.c.
const (
	bpfModeCgroup = 0
	bpfModeTree   = 1

	bpfTrackTarget   = 1
	bpfTrackLauncher = 2

	bpfKeyCompat = 1

	// bpfMaxNr is the size of the capture, arg_mask and seen arrays and
	// of each half of the per-CPU counts: syscall numbers at or above it
	// are counted (in the hash map) but their arguments not captured.
	bpfMaxNr = 1024

	// bpfMaxExes is the number of executable slots; the last,
	// bpfExeUnknown, stands for executables with no slot or no path.
	bpfMaxExes    = 256
	bpfExeUnknown = bpfMaxExes - 1
	// bpfPhases is the number of phases the recorder counts: the fast
	// array's entries and the columns of a shape's counts.
	bpfPhases = 2
)

// DefaultMaxEntries is the default size of the eBPF backend's counts map:
// the number of distinct (syscall, argument shape) pairs it can hold.
const DefaultMaxEntries = 32768

// EBPFOptions configures the eBPF backend.
type EBPFOptions struct {
	// MaxEntries is the size of the counts map; 0 means DefaultMaxEntries.
	// Events of a new (syscall, shape) pair that find the map full are
	// counted as lost.
	MaxEntries uint32
	// Exclusive makes the recording attach a sys_enter program of its
	// own rather than take a slot in the machine's shared one (see
	// trace/dispatch): each attached program costs every syscall of the
	// machine. The environment variable PROFGEN_EBPF_EXCLUSIVE=1 sets it
	// too.
	Exclusive bool
	// Share makes the recording take a slot in the machine's shared
	// program even when it is alone on the machine, where by default it
	// attaches its own (which costs each of its calls less: trace/dispatch).
	// The environment variable PROFGEN_EBPF_SHARE=1 sets it too.
	Share bool
	// Paths records, beside the syscalls, what Landlock governs (the
	// recording's landlock section): files and directories by path and
	// right, TCP ports, abstract UNIX sockets and signals outside the
	// target, from the file, socket and signal calls' returns
	// (trace/bpf/paths.h, docs/recording.md#paths). On a kernel without
	// BTF tracepoints the recording goes on without the section, with a
	// note that names the feature.
	Paths bool
}

// EBPF is the eBPF backend: programs on the raw tracepoints sys_enter,
// sched_process_fork and sched_process_exit count the target's syscalls:
// those with no captured argument in a per-CPU array by number, the others
// per (syscall, argument shape) in a kernel hash map.
//
// The mode and the argument masks are load-time constants of the programs
// (so the kernel's verifier drops what they rule out): NewEBPF loads
// everything once with defaults, which proves the kernel can; Prepare
// loads the programs again with the final constants, on the same maps.
type EBPF struct {
	mu    sync.Mutex
	spec  *ebpf.CollectionSpec
	objs  recorderObjects
	links []link.Link
	mode  uint32
	arch  abi.Arch
	masks ArgMasks
	// pathNr is path_nr: the class of each syscall the path recorder
	// looks at (EBPFOptions.Paths).
	pathNr [bpfMaxNr]uint8
	// level and cgid select the recording cgroup by direct loads in the
	// program (cgroup.Level); level 0 leaves it to the helper.
	level uint32
	cgid  uint64
	// noLevel makes the program ask the kernel per call (tests).
	noLevel bool
	// armOnExec counts a process of the cgroup only from its own
	// completed execve on, and what it forks (trace.Attach: a container's
	// cgroup, where runc's calls come first).
	armOnExec bool
	// argShapes is set once argument masks were given.
	argShapes bool
	// exclusive: never share the sys_enter program; share: share it
	// even alone (EBPFOptions).
	exclusive, share bool
	// solo lists the recording in the dispatcher's registry while it
	// runs a program of its own because it was alone.
	solo *dispatch.Solo
	// slot is the recording's slot in the shared dispatcher, when its
	// sys_enter program is reached through it rather than attached.
	slot *dispatch.Slot
	// shareErr says why a cgroup-mode recording attached its own
	// program.
	shareErr error
	// moves reads the moves ring buffer (WatchMoves); movesDone is
	// closed when its goroutine ends.
	moves     *ringbuf.Reader
	movesDone chan struct{}
	// exes reads the exe_events ring buffer; exesDone is closed when its
	// goroutine ends, after which exePaths (slot -> path) is complete.
	exes      *ringbuf.Reader
	exesDone  chan struct{}
	exePaths  map[uint32]string
	exeErrors int
	// ready is set by MarkReady: phase 0 is then startup, 1 serving.
	ready    bool
	prepared bool
	closed   bool
	// wantPaths is EBPFOptions.Paths; paths is its recorder once
	// attached, pathsErr why it could not be, section what Collect read.
	wantPaths bool
	paths     *pathsRec
	pathsErr  error
	section   json.RawMessage
	// cgPath is the recording's cgroup directory (cgroup mode).
	cgPath string
	// pathFDs are the syscalls' exit events the path recorder is
	// attached to; pathsNote says why it is on sys_exit instead.
	pathFDs   []int
	pathsNote string
	// pathsSysExit puts the path recorder on sys_exit (tests of the
	// fallback).
	pathsSysExit bool
}

var (
	_ Backend         = (*EBPF)(nil)
	_ ArgCapturer     = (*EBPF)(nil)
	_ ExecArmer       = (*EBPF)(nil)
	_ MoveWatcher     = (*EBPF)(nil)
	_ DistinctCounter = (*EBPF)(nil)
	_ TreeFollower    = (*EBPF)(nil)
	_ PhaseMarker     = (*EBPF)(nil)
	_ Observer        = (*EBPF)(nil)
)

// NewEBPF loads the recorder's programs and maps into the kernel. Nothing
// is attached until Prepare. It fails with an error wrapping ErrNotSupported
// when the kernel does not let profgen load BPF.
func NewEBPF(opts EBPFOptions) (*EBPF, error) {
	arch, err := abi.Native()
	if err != nil {
		return nil, err
	}
	spec, err := loadRecorder()
	if err != nil {
		return nil, fmt.Errorf("load eBPF recorder: %w", err)
	}
	if opts.MaxEntries > 0 {
		spec.Maps[recorderMapCounts].MaxEntries = opts.MaxEntries
	}
	if !opts.Paths {
		// The path recorder's maps (about 30 MB with its event ring)
		// at their least: nothing writes them.
		for _, m := range []string{recorderMapPathSeen, recorderMapPathNamed, recorderMapPathCache} {
			spec.Maps[m].MaxEntries = 1
		}
		spec.Maps[recorderMapPathEvents].MaxEntries = uint32(os.Getpagesize())
	}
	for name, syscall := range map[string]string{recorderVarNrExecve: "execve", recorderVarNrExecveat: "execveat"} {
		nr, err := abi.SyscallNumber(arch, syscall)
		if err != nil {
			return nil, fmt.Errorf("load eBPF recorder: %w", err)
		}
		if err := spec.Variables[name].Set(int64(nr)); err != nil {
			return nil, fmt.Errorf("load eBPF recorder: set %s: %w", name, err)
		}
	}
	current := dispatch.CurrentTasks()
	if err := current.Configure(spec); err != nil {
		return nil, fmt.Errorf("load eBPF recorder: %w", err)
	}
	// Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK.
	_ = rlimit.RemoveMemlock()

	e := &EBPF{arch: arch, spec: spec, exclusive: opts.Exclusive || os.Getenv(dispatch.Env) == "1",
		share: opts.Share || os.Getenv(dispatch.ShareEnv) == "1", wantPaths: opts.Paths}
	if err := spec.LoadAndAssign(&e.objs, nil); err != nil {
		return nil, dispatch.LoadError(err)
	}
	if err := current.Fill(e.objs.CurrentAt); err != nil {
		e.objs.Close()
		return nil, fmt.Errorf("load eBPF recorder: %w", err)
	}
	for slot := uint32(0); slot < bpfExeUnknown; slot++ {
		if err := e.objs.ExeFree.Put(nil, slot); err != nil {
			e.objs.Close()
			return nil, fmt.Errorf("load eBPF recorder: fill the executables' free slots: %w", err)
		}
	}
	return e, nil
}

// reload loads the programs again with the final mode and argument masks
// as constants, on the maps already loaded, and closes the first ones.
// With scratch (the shared dispatcher's dsp_scratch), profgen_enter is
// loaded to be tail-called by the dispatcher.
func (e *EBPF) reload(scratch *ebpf.Map) error {
	var (
		capture [bpfMaxNr]uint8
		masks   [bpfMaxNr][6]uint64
	)
	for nr, m := range e.masks {
		masks[nr] = m
		if m != [6]uint64{} {
			capture[nr] = 1
		}
	}
	for name, v := range map[string]any{
		recorderVarMode: e.mode, recorderVarTargetLevel: e.level, recorderVarTargetCgid: e.cgid,
		recorderVarCapture: capture, recorderVarArgMask: masks, recorderVarArmOnExec: boolU32(e.armOnExec),
		recorderVarDispatched: boolU32(scratch != nil),
		recorderVarPathsOn:    boolU32(e.wantPaths && e.pathsErr == nil), recorderVarPathNr: e.pathNr,
	} {
		if err := e.spec.Variables[name].Set(v); err != nil {
			return fmt.Errorf("load eBPF recorder: set %s: %w", name, err)
		}
	}
	var progs recorderPrograms
	err := e.spec.LoadAndAssign(&progs, &ebpf.CollectionOptions{MapReplacements: map[string]*ebpf.Map{
		recorderMapArmed:        e.objs.Armed,
		recorderMapCurrentAt:    e.objs.CurrentAt,
		recorderMapMoves:        e.objs.Moves,
		recorderMapCounts:       e.objs.Counts,
		recorderMapFast:         e.objs.Fast,
		recorderMapSeen:         e.objs.Seen,
		recorderMapTargetCgroup: e.objs.TargetCgroup,
		recorderMapTracked:      e.objs.Tracked,
		recorderMapDspScratch:   cmp.Or(scratch, e.objs.DspScratch),
		recorderMapExeEvents:    e.objs.ExeEvents,
		recorderMapExeScratch:   e.objs.ExeScratch,
		recorderMapExeFree:      e.objs.ExeFree,
		recorderMapExeSeen:      e.objs.ExeSeen,
		recorderMapExeSlots:     e.objs.ExeSlots,
		recorderMapPathSeen:     e.objs.PathSeen,
		recorderMapPathNamed:    e.objs.PathNamed,
		recorderMapPathLost:     e.objs.PathLost,
		recorderMapPathEvents:   e.objs.PathEvents,
		recorderMapPathScratch:  e.objs.PathScratch,
		recorderMapPathCache:    e.objs.PathCache,
	}})
	if err != nil {
		return dispatch.LoadError(err)
	}
	e.objs.recorderPrograms.Close()
	e.objs.recorderPrograms = progs
	return nil
}

// Name implements Backend.
func (e *EBPF) Name() recording.BackendName { return recording.BackendEBPF }

// CaptureArgs implements ArgCapturer: it sets the per-syscall argument
// masks of a compiled argument table, which Prepare loads as constants. Record calls it before Prepare.
func (e *EBPF) CaptureArgs(masks ArgMasks) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return errs.Closed("eBPF backend")
	}
	if e.prepared {
		return errors.New("eBPF backend: argument masks given after Prepare")
	}
	for nr := range masks {
		if nr < 0 || nr >= bpfMaxNr {
			return fmt.Errorf("argument table: syscall number %d is beyond the recorder's %d", nr, bpfMaxNr)
		}
	}
	e.masks = masks
	e.argShapes = true
	return nil
}

// ArmOnExec implements ExecArmer; Attach calls it before Prepare.
func (e *EBPF) ArmOnExec() {
	e.mu.Lock()
	e.armOnExec = true
	e.mu.Unlock()
}

// Prepare implements Backend: it selects the target (its cgroup, or the
// process tree profgen is about to start when t.Cgroup is nil) and attaches
// the programs.
func (e *EBPF) Prepare(t *Target) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return errs.Closed("eBPF backend")
	}
	if e.prepared {
		return errors.New("eBPF backend: Prepare called twice")
	}
	e.prepared = true
	if t.Cgroup != nil {
		e.mode = bpfModeCgroup
		// The cgroup array takes a descriptor of the directory; the
		// map keeps its own reference to the cgroup.
		fd, err := unix.Open(t.Cgroup.Path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("set target cgroup: %w", err)
		}
		err = e.objs.TargetCgroup.Put(uint32(0), uint32(fd))
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("set target cgroup %s: %w", t.Cgroup.Path, err)
		}
		e.cgPath = t.Cgroup.Path
		if level, ok := cgroup.Level(t.Cgroup.Path); ok && !e.noLevel {
			e.level, e.cgid = level, t.Cgroup.ID
		}
	} else {
		e.mode = bpfModeTree
		// While profgen starts the target, its new processes are
		// followed; Start replaces this entry by the target's pid.
		if err := e.objs.Tracked.Put(uint32(os.Getpid()), uint32(bpfTrackLauncher)); err != nil {
			return fmt.Errorf("track launcher: %w", err)
		}
	}
	// sys_enter through the shared dispatcher when the recording can
	// share it: the slot is chosen (the registry locked) before the
	// programs are loaded on the dispatcher's scratch map, and taken
	// last, once fork, exit and exec are attached.
	// Alone on the machine, a program of its own (dispatch.Begin's
	// Solo), listed so that the next recording shares.
	share := e.mode == bpfModeCgroup && e.level > 0 && !e.exclusive
	var join *dispatch.Join
	solo := false
	if share {
		var err error
		if join, err = dispatch.Begin(t.Cgroup, e.share); err != nil {
			e.shareErr, share = err, false
		} else if join.Solo() {
			share, solo = false, true
		}
	}
	defer join.End()
	var scratch *ebpf.Map
	if share {
		scratch = join.Scratch()
	}
	if e.wantPaths {
		nrs, err := pathNrs(e.arch)
		if err != nil {
			return err
		}
		e.pathNr = nrs
	}
	if err := e.reload(scratch); err != nil {
		return err
	}
	type attachment struct {
		name string
		prog *ebpf.Program
	}
	var attach []attachment
	if !share {
		attach = append(attach, attachment{"sys_enter", e.objs.ProfgenEnter})
	}
	if e.mode == bpfModeTree || e.armOnExec {
		attach = append(attach, attachment{"sched_process_fork", e.objs.ProfgenFork}, attachment{"sched_process_exit", e.objs.ProfgenExit})
	}
	// Always: it names the target's executables.
	attach = append(attach, attachment{"sched_process_exec", e.objs.ProfgenExec})
	if err := e.readExes(); err != nil {
		return err
	}
	if e.wantPaths {
		if err := e.attachPaths(); err != nil {
			e.detach()
			return err
		}
	}
	// Exec, fork and exit first, so that no process of the tree is missed.
	for i := len(attach) - 1; i >= 0; i-- {
		a := attach[i]
		l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: a.name, Program: a.prog})
		if err != nil {
			e.detach()
			return dispatch.AttachError(a.name, err)
		}
		e.links = append(e.links, l)
	}
	if share {
		slot, err := join.Commit(e.objs.ProfgenEnter, t.Cgroup, e.level)
		if err == nil {
			e.slot = slot
			return nil
		}
		// Not shared after all (the registry could not be written): a
		// program of its own, loaded for that (the attached fork, exit
		// and exec programs keep the maps they share with it).
		e.shareErr = err
		if err := e.reload(nil); err != nil {
			e.detach()
			return err
		}
		l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: "sys_enter", Program: e.objs.ProfgenEnter})
		if err != nil {
			e.detach()
			return dispatch.AttachError("sys_enter", err)
		}
		e.links = append(e.links, l)
	}
	if solo {
		// Unlisted (the registry could not be written), the next
		// recording attaches a program of its own too: a cost, no error.
		e.solo, e.shareErr = join.CommitSolo(t.Cgroup)
	}
	return nil
}

// Start implements Backend. In process-tree mode it makes sure the target is
// tracked and stops following profgen's own new processes.
func (e *EBPF) Start(pid int) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return errs.Closed("eBPF backend")
	}
	if e.mode != bpfModeTree {
		return nil
	}
	if err := e.objs.Tracked.Put(uint32(pid), uint32(bpfTrackTarget)); err != nil {
		return fmt.Errorf("track target %d: %w", pid, err)
	}
	if err := e.objs.Tracked.Delete(uint32(os.Getpid())); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
		return fmt.Errorf("untrack launcher: %w", err)
	}
	return nil
}

// fastCounts returns the per-CPU counts of each phase summed over the
// CPUs, with the earliest first sightings (bpf_ktime_get_ns, 0: none).
func (e *EBPF) fastCounts() (*[bpfPhases]recorderFast, error) {
	var sum [bpfPhases]recorderFast
	for ph := range sum {
		var per []recorderFast
		if err := e.objs.Fast.Lookup(uint32(ph), &per); err != nil {
			return nil, fmt.Errorf("read per-CPU syscall counts: %w", err)
		}
		s := &sum[ph]
		for i := range per {
			s.Hashed += per[i].Hashed
			s.Lost += per[i].Lost
			for nr, n := range per[i].N {
				s.N[nr] += n
			}
			for nr, t := range per[i].First {
				if t != 0 && (s.First[nr] == 0 || t < s.First[nr]) {
					s.First[nr] = t
				}
			}
		}
	}
	return &sum, nil
}

// Events implements Backend: the number of target syscalls seen so far.
func (e *EBPF) Events() uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return 0
	}
	f, err := e.fastCounts()
	if err != nil {
		return 0
	}
	var n uint64
	for ph := range f {
		n += f[ph].Hashed
		for _, v := range f[ph].N {
			n += v
		}
	}
	return n
}

// Distinct implements DistinctCounter: the number of distinct syscalls
// seen so far.
func (e *EBPF) Distinct() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return 0
	}
	seen := make([]bool, bpfMaxNr)
	if f, err := e.fastCounts(); err == nil {
		for nr := range seen {
			for ph := range f {
				seen[nr] = seen[nr] || f[ph].N[nr] != 0
			}
		}
	}
	var k, v uint32
	it := e.objs.Seen.Iterate()
	for it.Next(&k, &v) {
		if v != 0 && k < bpfMaxNr {
			seen[k] = true
		}
	}
	n := 0
	for _, s := range seen {
		if s {
			n++
		}
	}
	return n
}

// TreePids implements TreeFollower: the processes of the target tree in
// process-tree mode.
func (e *EBPF) TreePids() ([]int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, errs.Closed("eBPF backend")
	}
	var pids []int
	var k, v uint32
	it := e.objs.Tracked.Iterate()
	for it.Next(&k, &v) {
		if v == bpfTrackTarget {
			pids = append(pids, int(k))
		}
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("read tracked processes: %w", err)
	}
	return pids, nil
}

// Untrack implements TreeFollower: it forgets a process of the tree that
// is known to have been reaped (Start may have added one that had already
// ended).
func (e *EBPF) Untrack(pid int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.closed && e.mode == bpfModeTree {
		e.objs.Tracked.Delete(uint32(pid))
	}
}

// WatchMoves implements MoveWatcher: it attaches profgen_moved
// (cgroup_attach_task) and profgen_fork_out (sched_process_fork), which
// tell the moves ring buffer when a task of the machine moved to another
// cgroup or was born in one other than its parent's, and returns a
// channel that receives after each such record, coalesced.
func (e *EBPF) WatchMoves() (<-chan struct{}, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, errs.Closed("eBPF backend")
	}
	if !e.prepared || e.moves != nil {
		return nil, errors.New("eBPF backend: WatchMoves before Prepare, or twice")
	}
	r, err := ringbuf.NewReader(e.objs.Moves)
	if err != nil {
		return nil, fmt.Errorf("read the moves ring buffer: %w", err)
	}
	var links []link.Link
	for _, a := range []struct {
		name string
		prog *ebpf.Program
	}{{"cgroup_attach_task", e.objs.ProfgenMoved}, {"sched_process_fork", e.objs.ProfgenForkOut}} {
		l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: a.name, Program: a.prog})
		if err != nil {
			for _, l := range links {
				l.Close()
			}
			r.Close()
			return nil, dispatch.AttachError(a.name, err)
		}
		links = append(links, l)
	}
	e.links = append(e.links, links...)
	ch := make(chan struct{}, 1)
	e.moves, e.movesDone = r, make(chan struct{})
	go func() {
		defer close(e.movesDone)
		for {
			if _, err := r.Read(); err != nil {
				return // closed by detach
			}
			select {
			case ch <- struct{}{}:
			default: // one pending is enough
			}
		}
	}()
	return ch, nil
}

// Layout of an exe_event (bpf/recorder.c).
const (
	bpfExeNames    = 32
	bpfExeNameLen  = 256
	bpfExeRun      = 16 + bpfExeNames*bpfExeNameLen
	bpfExeEventLen = bpfExeRun + bpfExeNameLen
)

// readExes starts reading exe_events: the paths of the executables the
// recorder gives slots to, until detach flushes and closes it.
func (e *EBPF) readExes() error {
	r, err := ringbuf.NewReader(e.objs.ExeEvents)
	if err != nil {
		return fmt.Errorf("read the executables' ring buffer: %w", err)
	}
	e.exes, e.exesDone, e.exePaths = r, make(chan struct{}), map[uint32]string{}
	go func() {
		defer close(e.exesDone)
		for {
			rec, err := r.Read()
			if err != nil {
				return // flushed by detach, or closed
			}
			slot, path, ok := parseExeEvent(rec.RawSample)
			if !ok {
				e.exeErrors++
				continue
			}
			e.exePaths[slot] = path
		}
	}()
	return nil
}

// parseExeEvent decodes an exe_event: the slot and the executable's path
// as the process saw it. That is the absolute name the exec was given
// (execve's pathname, or a script's interpreter as its #! line wrote it;
// cleaned, symbolic links kept: /usr/bin/redis-server, not the file it
// links to), else (a relative name, a descriptor's /dev/fd/N) the path
// the kernel resolved, when its walk reached the process's root; false
// when neither names it.
func parseExeEvent(b []byte) (uint32, string, bool) {
	if len(b) < bpfExeEventLen {
		return 0, "", false
	}
	le := binary.LittleEndian
	slot := le.Uint32(b[0:])
	if slot >= bpfExeUnknown {
		return 0, "", false
	}
	if run := cBytes(b[bpfExeRun:bpfExeEventLen]); execName(run) {
		return slot, path.Clean(run), true
	}
	n, complete := le.Uint32(b[4:]), le.Uint32(b[8:])
	if complete != 1 || n == 0 || n > bpfExeNames {
		return 0, "", false
	}
	parts := make([]string, n)
	for i := range n {
		name := cBytes(b[16+int(i)*bpfExeNameLen : 16+int(i+1)*bpfExeNameLen])
		if name == "" {
			return 0, "", false
		}
		parts[n-1-i] = name
	}
	return slot, "/" + strings.Join(parts, "/"), true
}

// execName says whether the name an exec was given names the executable
// as the process saw it: absolute, whole (shorter than the buffer), and
// not a descriptor's (fexecve: /dev/fd/N, /proc/self/fd/N).
func execName(run string) bool {
	return strings.HasPrefix(run, "/") && len(run) < bpfExeNameLen-1 &&
		!strings.HasPrefix(run, "/dev/fd/") && !strings.HasPrefix(run, "/proc/")
}

// MarkReady implements PhaseMarker: the calls from now on are counted in
// the serving phase, those before in startup.
func (e *EBPF) MarkReady(time.Time) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return errs.Closed("eBPF backend")
	}
	var a recorderArm
	if err := e.objs.Armed.Lookup(uint32(0), &a); err != nil {
		return fmt.Errorf("read the recorder's phase: %w", err)
	}
	a.Phase = 1
	// The whole value is written back: the executables' generation, which
	// the kernel bumps on every exec meanwhile, moves far ahead so that it
	// never repeats a value a CPU's cached slot was stamped with
	// (trace/bpf/target.h, struct arm).
	a.ExeGen += 1 << 32
	if err := e.objs.Armed.Put(uint32(0), a); err != nil {
		return fmt.Errorf("set the recorder's phase: %w", err)
	}
	e.ready = true
	return nil
}

// detach stops observing: the shared slot is emptied first (the other
// programs follow the tree the slot's program counts).
func (e *EBPF) detach() {
	if e.slot != nil {
		e.slot.Leave()
		e.slot = nil
	}
	if e.solo != nil {
		e.solo.Leave()
		e.solo = nil
	}
	for _, l := range e.links {
		l.Close()
	}
	e.links = nil
	closeEvents(e.pathFDs)
	e.pathFDs = nil
	if e.paths != nil {
		e.paths.stop()
	}
	if e.moves != nil {
		e.moves.Close()
		<-e.movesDone
		e.moves = nil
	}
	if e.exes != nil {
		// Flush: the reader returns what is left, then stops.
		if err := e.exes.Flush(); err != nil {
			e.exes.Close()
		}
		<-e.exesDone
		e.exes.Close()
		e.exes = nil
	}
}

// Collect implements Backend: it detaches the programs and reads the
// counts.
func (e *EBPF) Collect() (*Observations, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, errs.Closed("eBPF backend")
	}
	e.detach()
	obs := &Observations{
		Counts:    map[Key]uint64{},
		Scope:     recording.ScopeCgroup,
		ArgShapes: e.argShapes,
	}
	if e.mode == bpfModeTree {
		obs.Scope = recording.ScopeProcessTree
	}
	phases := [bpfPhases]string{recording.PhaseRun, recording.PhaseServing}
	if e.ready {
		phases[0] = recording.PhaseStartup
	}
	clock := monotonicClock()
	var (
		k      recorderKey
		v      recorderShape
		compat = map[uint32]uint64{}
	)
	it := e.objs.Counts.Iterate()
	for it.Next(&k, &v) {
		if k.Flags&bpfKeyCompat != 0 {
			compat[k.Nr] += v.N[0] + v.N[1]
			continue
		}
		key := Key{Nr: k.Nr, Args: k.Args}
		ev := obs.evidence(key)
		for ph, n := range v.N {
			obs.Counts[key] += n
			ev.count(phases[ph], n)
		}
		ev.seenAt(clock(v.First))
		e.exeOf(ev, k.Exe)
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("read syscall counts: %w", err)
	}
	f, err := e.fastCounts()
	if err != nil {
		return nil, err
	}
	for ph := range f {
		for nr := uint32(0); nr < bpfMaxNr; nr++ {
			if n := f[ph].N[nr]; n != 0 {
				key := Key{Nr: nr}
				obs.Counts[key] += n
				ev := obs.evidence(key)
				ev.count(phases[ph], n)
				ev.seenAt(clock(f[ph].First[nr]))
			}
			if n := f[ph].N[bpfMaxNr+nr]; n != 0 {
				compat[nr] += n
			}
		}
		obs.Lost += f[ph].Lost
	}
	if err := e.exesOfFast(obs); err != nil {
		return nil, err
	}
	if len(compat) > 0 {
		obs.Notes = append(obs.Notes, compatNote(compat, e.arch))
	}
	if e.exeErrors > 0 {
		obs.Notes = append(obs.Notes, fmt.Sprintf("the paths of %d executables could not be read (deeper than %d directories, or a name too long); they are counted in otherExes", e.exeErrors, bpfExeNames))
	}
	if e.pathsErr != nil {
		obs.Notes = append(obs.Notes, "no landlock section: "+e.pathsErr.Error())
	}
	if e.paths != nil {
		sec, notes, err := e.paths.section(e.exePaths, e.ready)
		if err != nil {
			return nil, err
		}
		if e.section, err = marshalSection(sec); err != nil {
			return nil, err
		}
		obs.Notes = append(obs.Notes, notes...)
		if e.pathsNote != "" {
			obs.Notes = append(obs.Notes, e.pathsNote)
		}
	}
	return obs, nil
}

// exeOf adds the executable in slot to ev: its path, or one more unnamed
// executable.
func (e *EBPF) exeOf(ev *Evidence, slot uint32) {
	if path, ok := e.exePaths[slot]; ok {
		ev.Exes[path] = true
		return
	}
	ev.UnnamedExes++
}

// exesOfFast adds the executables of the syscalls counted in the per-CPU
// array, from each slot's bitmaps (ORed over the CPUs).
func (e *EBPF) exesOfFast(obs *Observations) error {
	for slot := uint32(0); slot < bpfMaxExes; slot++ {
		var per []recorderExeBits
		if err := e.objs.ExeSeen.Lookup(slot, &per); err != nil {
			return fmt.Errorf("read the executables' syscalls: %w", err)
		}
		var bits [bpfMaxNr / 64]uint64
		for i := range per {
			for w := range bits {
				bits[w] |= per[i].W[w]
			}
		}
		for nr := uint32(0); nr < bpfMaxNr; nr++ {
			if bits[nr/64]&(1<<(nr%64)) == 0 {
				continue
			}
			if ev, ok := obs.Evidence[Key{Nr: nr}]; ok {
				e.exeOf(ev, slot)
			}
		}
	}
	return nil
}

// monotonicClock returns a function that turns a CLOCK_MONOTONIC reading
// in nanoseconds (bpf_ktime_get_ns) into wall-clock time; 0 stays the zero
// time.
func monotonicClock() func(uint64) time.Time {
	var ts unix.Timespec
	now := time.Now()
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return func(uint64) time.Time { return time.Time{} }
	}
	mono := uint64(ts.Nano())
	return func(ns uint64) time.Time {
		if ns == 0 {
			return time.Time{}
		}
		return now.Add(-time.Duration(mono - ns))
	}
}

// attachPaths starts reading the path recorder's events and attaches its
// sys_exit program (trace/bpf/paths.h), loaded with the recorder; a kernel
// that cannot run it (no BTF tracepoints) leaves pathsErr, which Collect
// notes.
func (e *EBPF) attachPaths() error {
	p, err := newPathsRec(e)
	if err != nil {
		return err
	}
	// The syscalls' own exit events first: only those calls run the
	// program. Else the raw tracepoint sys_exit, which every syscall of
	// the machine runs.
	var names []string
	for _, n := range pathCalls[1:] {
		if _, err := abi.SyscallNumber(e.arch, n); err == nil {
			names = append(names, n)
		}
	}
	evErr := errors.New("sys_exit asked for")
	var fds []int
	if !e.pathsSysExit {
		fds, evErr = syscallEvents(e.objs.ProfgenPathsEvent, names)
	}
	if evErr == nil {
		e.pathFDs = fds
		e.paths = p
		return nil
	}
	e.pathsNote = fmt.Sprintf("landlock: recorded from the raw tracepoint sys_exit, which every syscall of the machine runs: the syscalls' own exit events could not be used (%v)", evErr)
	l, err := link.AttachTracing(link.TracingOptions{Program: e.objs.ProfgenPathsExit})
	if err != nil {
		p.close()
		err = dispatch.AttachError("tp_btf/sys_exit", err)
		if errors.Is(err, ErrNotSupported) {
			e.pathsErr = err
			return nil
		}
		return err
	}
	e.links = append(e.links, l)
	e.paths = p
	return nil
}

// Sections implements Observer: the landlock section, when paths were
// recorded.
func (e *EBPF) Sections() (map[string]json.RawMessage, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.section == nil {
		return nil, nil
	}
	return map[string]json.RawMessage{recording.LandlockKind: e.section}, nil
}

// Close implements Backend: it detaches and unloads everything. It may be
// called more than once.
func (e *EBPF) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	e.detach()
	if e.paths != nil {
		e.paths.close()
	}
	return e.objs.Close()
}

// compatNote describes syscalls made through the 32-bit (ia32) entry, which
// a profile for the native ABI denies.
func compatNote(compat map[uint32]uint64, native abi.Arch) string {
	nrs := make([]uint32, 0, len(compat))
	var total uint64
	for nr, n := range compat {
		nrs = append(nrs, nr)
		total += n
	}
	slices.Sort(nrs)
	var parts []string
	for _, nr := range nrs {
		name, err := abi.SyscallName("x86", int(nr))
		if err != nil {
			name = fmt.Sprintf("#%d", nr)
		}
		parts = append(parts, fmt.Sprintf("%s x%d", name, compat[nr]))
	}
	return fmt.Sprintf("%d syscalls through the 32-bit x86 entry (int 0x80, or a 32-bit program) are not in this recording, "+
		"whose profile allows only the %s ABI: %s", total, native, strings.Join(parts, ", "))
}

func boolU32(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}
