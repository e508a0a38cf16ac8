package replay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/emit"
	"github.com/profgen/profgen/filter"
	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/internal/audit"
	"github.com/profgen/profgen/internal/container"
	"github.com/profgen/profgen/internal/engine"
	"github.com/profgen/profgen/internal/exitcode"
	"github.com/profgen/profgen/internal/fileio"
	ll "github.com/profgen/profgen/internal/landlock"
	"github.com/profgen/profgen/internal/runc"
	"github.com/profgen/profgen/landlock"
	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/trace"
)

// Engine names where live replay runs a workload: a row of the engine
// table (internal/engine) that live replay runs (its Replay field), whose
// start function is in starters.
type Engine = engine.Name

// Engines live replay runs a workload in.
const (
	// RuntimeNone runs the workload directly under the filter.
	RuntimeNone = engine.None
	// RuntimeRunc runs it in a runc container that loads the profile.
	RuntimeRunc = engine.Runc
)

// starter starts a workload in one engine of the table.
type starter struct {
	// start starts the workload of opts under prof (loaded with
	// SECCOMP_FILTER_FLAG_LOG if logFlag) and tells col how to find its
	// audit records: by its session, or (engine.ByCgroup) by the
	// container the workload names.
	start func(opts LiveOptions, prof *learn.Profile, logFlag bool, col *collector) (*workload, error)
	// check, if set, fails when the engine cannot be used here.
	check func() error
}

// starters are the start functions of the engine table's rows that live
// replay runs in a container, keyed by the row's name; the row none runs
// through liveDirect. TestStarters keeps them and the table in step.
var starters = map[Engine]starter{
	engine.Runc: {start: func(opts LiveOptions, prof *learn.Profile, logFlag bool, col *collector) (*workload, error) {
		return startRunc(opts, prof, logFlag, col.watch)
	}},
	engine.Podman: {start: func(opts LiveOptions, prof *learn.Profile, logFlag bool, col *collector) (*workload, error) {
		return startPodman(opts, prof, logFlag, col.watch)
	}},
	engine.Docker: {start: startDocker, check: checkDockerLocal},
}

// Bind is a host path bind-mounted into the container (runc, podman,
// docker).
type Bind = runc.Bind

// ParseBind reads a bind as --bind takes it: PATH or SRC:DST (read-only),
// SRC:DST:ro or SRC:DST:rw.
func ParseBind(s string) (Bind, error) { return runc.ParseBind(s) }

// NormalizeCapabilities checks capability names given as docker run's
// --cap-add and --cap-drop take them and returns them as OCI names
// (CAP_NET_ADMIN, or ALL); the error names the flag and the capability.
func NormalizeCapabilities(add, drop []string) (addOut, dropOut []string, err error) {
	norm := func(names []string, flag string) ([]string, error) {
		var out []string
		for _, n := range names {
			c, err := runc.NormalizeCap(n)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", flag, err)
			}
			out = append(out, c)
		}
		return out, nil
	}
	if addOut, err = norm(add, "--cap-add"); err != nil {
		return nil, nil, err
	}
	if dropOut, err = norm(drop, "--cap-drop"); err != nil {
		return nil, nil, err
	}
	return addOut, dropOut, nil
}

// ErrInterrupted is returned when a signal (LiveOptions.Signals) ended the
// replay: the workload did not run its course, so there is no verdict.
var ErrInterrupted = errors.New("interrupted: no verdict")

// errAuditLost means audit records were dropped during a run, so a denial
// may be missing; the run is repeated up to auditAttempts times.
var errAuditLost = errors.New("audit records were lost, a denial may be missing: no verdict")

const auditAttempts = 3

// DefaultGrace is how long a workload gets between SIGTERM and SIGKILL
// once its driver is done, when LiveOptions.Grace is zero.
const DefaultGrace = 5 * time.Second

// flushTimeout bounds the wait for the audit records of a finished
// workload.
const flushTimeout = 10 * time.Second

// LiveOptions configure Live.
type LiveOptions struct {
	// Profile is the profile the workload runs under; nil replays the
	// Landlock ruleset alone (Landlock).
	Profile *learn.Profile
	// Command is the workload; Command[0] is looked up in PATH. With
	// RuntimePodman and RuntimeDocker it is IMAGE [CMD...].
	Command []string
	// Runtime is the engine the workload runs in: RuntimeNone (the
	// default), RuntimeRunc, RuntimePodman or RuntimeDocker, a row of
	// engine.Engines that live replay runs.
	Runtime Engine
	// Drive, if set, is a shell command (sh -c, on the host) run once the
	// workload is ready; when it ends the workload is stopped (SIGTERM,
	// SIGKILL after Grace). Its exit status is the report's ExitCode.
	Drive string
	// Ready says when the workload is ready for Drive: "" (at once),
	// "tcp:HOST:PORT" or "delay:DURATION".
	Ready        string
	ReadyTimeout time.Duration
	Grace        time.Duration
	// LogOnly runs the workload under the profile with its default
	// action switched to SCMP_ACT_LOG: nothing is denied, and the report
	// lists every call the profile would have denied. Live switches to
	// it by itself where denials cannot be logged (see Live).
	LogOnly bool
	// NoNewPrivileges runs the container with no_new_privs (runc: the
	// bundle's noNewPrivileges; podman, docker: --security-opt
	// no-new-privileges).
	// False is Docker's default, under which runc loads the filter
	// earlier and makes more of its own calls under it.
	NoNewPrivileges bool
	// Binds are host paths bind-mounted into the container (runc,
	// podman and docker); with runc the workload's binary always is,
	// read-only.
	Binds []runc.Bind
	// CapAdd and CapDrop change the container's capabilities as docker
	// run's --cap-add and --cap-drop do (names with or without CAP_, ALL):
	// with runc from Docker's default set (runc.DefaultCapabilities),
	// with podman and docker from the engine's own default.
	CapAdd, CapDrop []string
	// ExpectExit is the exit status the workload is expected to end
	// with on its own (0 by default; a recording's exit.code when its
	// command is replayed). A workload that ends otherwise, or that
	// fails after profgen stopped it, is a failure (Report.Failures): no
	// PASS.
	ExpectExit int
	// EngineArgs are passed to `podman run` or `docker create` before the
	// image (RuntimePodman, RuntimeDocker): --ulimit, --network, -v, -e ...
	// With docker, -i (--interactive) also attaches Stdin.
	EngineArgs []string

	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Landlock, when not nil, is a Landlock ruleset the workload runs
	// under too (RuntimeNone): the launcher applies it before the
	// filter, and each access it denies is named in Report.Landlock from
	// Landlock's own audit records (Linux 6.15; audit is enabled for the
	// run when it is off, and restored after). With a Landlock ruleset,
	// Profile may be nil: only the ruleset is replayed.
	Landlock *landlock.Ruleset
	// LandlockLauncher is the static launcher on the host
	// (cmd/profgen-landlock, internal/landlock.FindLauncher) that applies
	// Landlock in a container (RuntimeRunc, RuntimePodman,
	// RuntimeDocker): it and the ruleset are bind-mounted read-only at
	// /.profgen and the launcher is put in front of the container's
	// command, as profgen-runc does for io.profgen.landlock. Required
	// with Landlock in a container.
	LandlockLauncher string
	// landlockOnly is set by checkLive when Profile was nil.
	landlockOnly bool
	// kernelLandlock is Landlock as this kernel enforces it, for the
	// launcher of a container run (liveRunc).
	kernelLandlock *ll.Ruleset
	// Signals carries the trace.StopSignals received by the caller,
	// passed on to the workload as trace.Record does (RuntimeNone). Nil:
	// none.
	Signals <-chan os.Signal
}

// Live runs a workload under a profile and reports every syscall the
// profile denied it (or, log-only, would have denied), read back from the
// kernel's audit records of the workload's own audit session. With
// RuntimeRunc the container runtime's own calls after loading the filter
// count too: a profile that runc cannot start the workload under fails.
//
// The kernel audits a denial (SECCOMP_RET_ERRNO) only when the filter was
// loaded with SECCOMP_FILTER_FLAG_LOG. profgen's launcher (RuntimeNone)
// sets it, and runc 1.2 does when asked; runc before 1.2 refuses the OCI
// "flags" field, and then Live runs the workload twice and says so in a
// note: first enforced as the profile is (its exit status counts;
// only kill actions, which the kernel always audits, can be named), then
// log-only, as if LogOnly were set. Log-only, the workload itself never
// sees a denial, so it runs to the end and every would-be denial is
// reported, not only the first; calls the profile answers with an
// explicit action (the ENOSYS stubs) are enforced and not reported.
//
// The report's ExitCode is the driver's exit status when a driver ran,
// the workload's otherwise (128+N for death by signal N); Workload and
// Driver say how each ended, and Failures which of them did not behave
// (the workload's status is not opts.ExpectExit, it was not ready, the
// driver failed): such a report is not a PASS. An error means the replay
// itself could not be done; a denial is not an error.
func Live(ctx context.Context, opts LiveOptions) (*Report, error) {
	if err := checkLive(&opts); err != nil {
		return nil, err
	}
	rep := &Report{Mode: ModeLive, Violations: []Violation{}}
	// Signals pass through to the workload; one that arrives ends the
	// replay after the current run.
	var interrupted atomic.Bool
	if opts.Signals != nil {
		in, fwd := opts.Signals, make(chan os.Signal, 2)
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			for {
				select {
				case sig := <-in:
					interrupted.Store(true)
					select {
					case fwd <- sig:
					default:
					}
				case <-stop:
					return
				}
			}
		}()
		opts.Signals = fwd
	}
	forced := false
	// logFlag: the filter is loaded with SECCOMP_FILTER_FLAG_LOG.
	logFlag := true
	if e, _ := engine.Lookup(opts.Runtime); learn.Loader(e.Loader) == learn.LoaderRunc && opts.landlockOnly {
		// An allow-all filter (Landlock alone) denies nothing to log.
		logFlag = false
	} else if learn.Loader(e.Loader) == learn.LoaderRunc && !opts.LogOnly {
		// runc loads the filter (podman and docker run the same runc).
		ok, err := runc.SupportsSeccompFlag(specs.LinuxSeccompFlagLog)
		if err != nil {
			return nil, fmt.Errorf("live replay: %w", err)
		}
		if !ok {
			forced = true
			rep.Notes = append(rep.Notes, "this runc cannot load a filter with SECCOMP_FILTER_FLAG_LOG (runc 1.2 can), so denials are not audited: the workload ran twice, enforced and then log-only")
		}
	}
	if opts.landlockOnly {
		rep.Notes = append(rep.Notes, "no seccomp profile: only the Landlock ruleset was replayed")
	} else if k := opts.Profile.DefaultAction.Kind; k == learn.ActAllow || k == learn.ActLog {
		return nil, fmt.Errorf("live replay: the profile's default action is %s: replay proves allowlists, whose default action denies", opts.Profile.DefaultAction)
	}
	run := func(prof *learn.Profile, logFlag bool, rep *Report) error {
		// Audit records of the whole machine share the socket: when
		// another busy auditor overran it, the run is repeated.
		base := *rep
		for attempt := 1; ; attempt++ {
			*rep = base
			rep.Violations, rep.Notes = slices.Clone(base.Violations), slices.Clone(base.Notes)
			var err error
			if opts.Runtime == RuntimeNone {
				err = liveDirect(ctx, opts, prof, logFlag, rep)
			} else {
				err = liveRunc(ctx, opts, prof, logFlag, rep)
			}
			if !errors.Is(err, errAuditLost) || attempt == auditAttempts || interrupted.Load() {
				return err
			}
		}
	}

	if !opts.LogOnly && !forced {
		// Enforced, and every denial audited.
		if err := run(opts.Profile, logFlag, rep); err != nil {
			return nil, fmt.Errorf("live replay: %w", err)
		}
		if interrupted.Load() {
			return nil, fmt.Errorf("live replay: %w", ErrInterrupted)
		}
		return rep, nil
	}
	enforcedCode := 0
	if forced {
		// First the profile as it is, enforced: the workload and its
		// driver must succeed under the real thing. Only denials the
		// kernel always audits (kill actions) can be seen.
		enf := &Report{}
		if err := run(opts.Profile, false, enf); err != nil {
			return nil, fmt.Errorf("live replay (enforced run): %w", err)
		}
		for _, n := range enf.Notes {
			rep.Notes = append(rep.Notes, "enforced run: "+n)
		}
		if interrupted.Load() {
			return nil, fmt.Errorf("live replay: %w", ErrInterrupted)
		}
		rep.Notes = append(rep.Notes, fmt.Sprintf("enforced run: exit status %d", enf.ExitCode))
		for _, f := range enf.Failures {
			rep.Failures = append(rep.Failures, "enforced run: "+f)
		}
		rep.Violations = append(rep.Violations, enf.Violations...)
		rep.mergeLandlock(enf)
		rep.Checked += enf.Checked
		enforcedCode = enf.ExitCode
	}
	// Log-only: the default action switched to log, so that every call
	// it would have caught is audited and named.
	prof := opts.Profile.Copy()
	prof.DefaultAction = learn.Log
	lo := &Report{}
	if err := run(prof, false, lo); err != nil {
		return nil, fmt.Errorf("live replay (log-only run): %w", err)
	}
	if interrupted.Load() {
		return nil, fmt.Errorf("live replay: %w", ErrInterrupted)
	}
	rep.Notes = append(rep.Notes, fmt.Sprintf("log-only run: the default action %s was switched to log; each call listed would have been denied", opts.Profile.DefaultAction))
	for _, n := range lo.Notes {
		rep.Notes = append(rep.Notes, "log-only run: "+n)
	}
	rep.Checked += lo.Checked
	rep.Violations = mergeViolations(rep.Violations, lo.Violations)
	rep.mergeLandlock(lo)
	rep.ExitCode = lo.ExitCode
	if enforcedCode != 0 {
		rep.ExitCode = enforcedCode
	}
	rep.Workload, rep.Driver = lo.Workload, lo.Driver
	for _, f := range lo.Failures {
		prefix := ""
		if forced {
			prefix = "log-only run: "
		}
		rep.Failures = append(rep.Failures, prefix+f)
	}
	return rep, nil
}

// mergeViolations adds b to a, one entry per syscall, action and
// executable, sorted.
func mergeViolations(a, b []Violation) []Violation {
	for _, v := range b {
		i := slices.IndexFunc(a, func(w Violation) bool {
			return w.Syscall == v.Syscall && w.Action == v.Action && w.Exe == v.Exe && w.Comm == v.Comm
		})
		if i >= 0 {
			a[i].Count += v.Count
			continue
		}
		a = append(a, v)
	}
	sort.Slice(a, func(i, j int) bool {
		return violationLess(a[i], a[j])
	})
	return a
}

// violationLess orders violations by syscall, action and executable.
func violationLess(a, b Violation) bool {
	if a.Syscall != b.Syscall {
		return a.Syscall < b.Syscall
	}
	if a.Action != b.Action {
		return a.Action < b.Action
	}
	if a.Exe != b.Exe {
		return a.Exe < b.Exe
	}
	return a.Comm < b.Comm
}

// liveRunc runs the workload in runc (or podman's or docker's runc) and
// reads its audit records.
func liveRunc(ctx context.Context, opts LiveOptions, prof *learn.Profile, logFlag bool, rep *Report) error {
	ready, err := trace.ParseReady(opts.Ready)
	if err != nil {
		return err
	}
	if opts.Landlock != nil {
		kr, restore, err := landlockRun(opts, rep)
		if err != nil {
			return err
		}
		defer restore()
		opts.kernelLandlock = &kr
	}
	col, err := newCollector(opts.Landlock != nil)
	if err != nil {
		return err
	}
	defer col.close()
	w, err := starters[opts.Runtime].start(opts, prof, logFlag, col)
	if err != nil {
		return err
	}
	defer w.cleanup()
	code, err := drive(ctx, w, ready, opts, rep)
	if err != nil {
		return err
	}
	rep.ExitCode = code
	if err := col.flush(); err != nil {
		return err
	}
	if lost := col.lost(); lost > 0 {
		return fmt.Errorf("%w: the audit socket overran %d times", errAuditLost, lost)
	}
	if n := col.unplacedLandlock(); n > 0 {
		rep.fail("%d Landlock denials arrived whose process the kernel did not name (no audit context): they may be the workload's, no verdict for the ruleset", n)
	}
	if e, _ := engine.Lookup(opts.Runtime); e.Attribution == engine.ByCgroup {
		recs, denials, gone := col.container(w.container)
		if gone > 0 {
			return fmt.Errorf("%w: %d records came from processes of the container's audit session that exited before their cgroup could be read",
				errAuditLost, gone)
		}
		rep.addLandlockDenials(denials)
		if err := rep.addDenials(recs, opts.Profile); err != nil {
			return err
		}
		rep.launcherNote(opts)
		return nil
	}
	recs, denials := col.session(w.session)
	rep.addLandlockDenials(denials)
	if err := rep.addDenials(recs, opts.Profile); err != nil {
		return err
	}
	rep.launcherNote(opts)
	return nil
}

// liveDirect runs the workload through profgen's seccomp launcher, as the
// log backend records. With logFlag the profile is enforced as it is and
// loaded with SECCOMP_FILTER_FLAG_LOG, so that the kernel audits each
// denial, and only the records of the profile's default action (and of a
// call through another ABI, which kills) are kept; audit records do not
// carry the errno, so the calls the profile answers with an explicit
// action of the same kind (the ENOSYS stubs) are told apart by name and
// are not violations. Without logFlag (log-only), prof's default action is
// SCMP_ACT_LOG and calls of another ABI are logged too.
func liveDirect(ctx context.Context, opts LiveOptions, prof *learn.Profile, logFlag bool, rep *Report) error {
	var co filter.CompileOptions
	var logOpts trace.LogOptions
	if logFlag {
		logOpts.FilterFlags = unix.SECCOMP_FILTER_FLAG_LOG
		logOpts.Codes = []uint32{filter.RetFromAction(prof.DefaultAction) & unix.SECCOMP_RET_ACTION_FULL, unix.SECCOMP_RET_KILL_PROCESS}
	} else {
		co.BadArch = &learn.Log
	}
	f, err := filter.NewFilterHot(prof, prof.Counts(), co) // hot-first: the verdicts of NewFilter
	if err != nil {
		return err
	}
	logOpts.Filter, err = filter.Program(f)
	f.Release()
	if err != nil {
		return err
	}
	var mu sync.Mutex
	if opts.Landlock != nil {
		kr, restore, err := landlockRun(opts, rep)
		if err != nil {
			return err
		}
		defer restore()
		if kr.HandledFS|kr.HandledNet|kr.Scoped != 0 {
			logOpts.Landlock = &kr
		}
		logOpts.OnLandlock = func(d audit.LandlockDenial) {
			mu.Lock()
			defer mu.Unlock()
			for _, v := range landlockViolations(d) {
				rep.addLandlock(v)
			}
		}
	}
	backend, err := trace.NewLog(logOpts)
	if err != nil {
		return err
	}
	res, err := trace.Record(ctx, trace.Options{
		Command:      opts.Command,
		Backend:      backend,
		Drive:        opts.Drive,
		Ready:        opts.Ready,
		ReadyTimeout: opts.ReadyTimeout,
		Grace:        opts.Grace,
		Stdin:        opts.Stdin,
		Stdout:       opts.Stdout,
		Stderr:       opts.Stderr,
		Signals:      opts.Signals,
		Tool:         "profgen replay",
	})
	if cerr := backend.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("close %s backend: %w", backend.Name(), cerr)
	}
	if err != nil {
		return err
	}
	rep.ExitCode = res.ExitCode
	rec := res.Recording
	rep.Workload = &Ended{Ran: true, Status: rec.Exit.Code}
	if opts.Drive == "" {
		judgeOwnEnd(rep, opts, rec.Exit.Code)
	} else {
		rep.Driver = &Ended{Ran: true, Status: res.ExitCode}
		if res.DriverErr != nil {
			rep.fail("the driver exited with status %d (%v)", res.ExitCode, res.DriverErr)
		}
		// Whether the workload ended on its own or was stopped, the
		// recording does not say: any status a stop gives passes.
		if c := rec.Exit.Code; c != opts.ExpectExit && !stopStatus(c) {
			rep.fail("%s exited with status %d (expected %d, or the status of a stop: 0, %d or %d)",
				workloadName(opts), c, opts.ExpectExit, 128+int(syscall.SIGTERM), 128+int(syscall.SIGKILL))
		}
	}
	rep.Notes = append(rep.Notes, rec.Notes...)
	if rec.Lost > 0 {
		return fmt.Errorf("%w: %d records", errAuditLost, rec.Lost)
	}
	act := actionName(opts.Profile.DefaultAction)
	for _, s := range rec.Syscalls {
		if ownEntry(prof, s.Name) {
			continue // an ENOSYS stub, not a denial
		}
		rep.Violations = append(rep.Violations, Violation{Syscall: s.Name, Number: s.Number, Action: act, Count: s.Count})
		rep.Checked += s.Count
	}
	return nil
}

func checkLive(opts *LiveOptions) error {
	if opts.Profile == nil {
		if opts.Landlock == nil {
			return errors.New("live replay: no profile")
		}
		native, err := abi.Native()
		if err != nil {
			return err
		}
		if opts.LogOnly {
			return errors.New("live replay: log-only applies to a seccomp profile (Landlock has no log-only mode): give a profile")
		}
		// Nothing is denied by seccomp: the filter allows every call.
		opts.Profile, opts.landlockOnly = &learn.Profile{Arch: native, DefaultAction: learn.Allow}, true
	}
	if len(opts.Command) == 0 {
		return errors.New("live replay: no command")
	}
	if opts.Runtime == "" {
		opts.Runtime = RuntimeNone
	}
	if opts.Landlock != nil && opts.Runtime != RuntimeNone {
		// In a container the launcher applies it: a ruleset that
		// cannot be applied there is an error, never a pass.
		if v := ll.ABI(); v == 0 {
			return errors.New("live replay: the Landlock ruleset cannot be applied: this kernel has no Landlock (Linux 5.13 and later have it, when lsm= lists landlock)")
		}
		if opts.LandlockLauncher == "" {
			return fmt.Errorf("live replay: a Landlock ruleset in a container needs the static launcher %s (LiveOptions.LandlockLauncher)", ll.LauncherName)
		}
	}
	e, ok := engine.Lookup(opts.Runtime)
	if !ok || !e.Replay {
		return fmt.Errorf("live replay: unknown runtime %q (want %s)", opts.Runtime,
			engine.List(engine.Names(func(e engine.Engine) bool { return e.Replay })))
	}
	if opts.Ready != "" && opts.Drive == "" {
		return errors.New("live replay: a readiness check needs a driver command")
	}
	if opts.Grace <= 0 {
		opts.Grace = DefaultGrace
	}
	if opts.ExpectExit < 0 || opts.ExpectExit > 255 {
		return fmt.Errorf("live replay: expected exit status %d is not in 0-255", opts.ExpectExit)
	}
	if !e.Container && (len(opts.Binds) > 0 || len(opts.CapAdd) > 0 || len(opts.CapDrop) > 0) {
		return fmt.Errorf("live replay: binds and capabilities need a container runtime (%s)", engine.List(containerEngines()))
	}
	if e.Executable != "" {
		if _, err := exec.LookPath(e.Executable); err != nil {
			return fmt.Errorf("live replay: --runtime %s: %s not found (install it: apt-get install %s%s): %w", opts.Runtime, e.Executable, e.Package, e.Hint, err)
		}
	}
	if check := starters[opts.Runtime].check; check != nil {
		if err := check(); err != nil {
			return fmt.Errorf("live replay: %w", err)
		}
	}
	if !e.Image { // else COMMAND is an image
		if _, err := exec.LookPath(opts.Command[0]); err != nil {
			return fmt.Errorf("live replay: command %q: %w", opts.Command[0], err)
		}
	}
	native, err := abi.Native()
	if err != nil {
		return err
	}
	if opts.Profile.Arch != native {
		return fmt.Errorf("live replay: the profile is for %s, this machine is %s", opts.Profile.Arch, native)
	}
	return nil
}

// workload is a started workload, in runc or not.
type workload struct {
	// session is the audit session id of the workload's process tree.
	session uint32
	// container, if set, is the id of the workload's container, whose
	// records are told apart by cgroup rather than by session (docker).
	container string
	// done is closed when the workload has ended.
	done <-chan struct{}
	// terminate asks the workload to stop (SIGTERM).
	terminate func() error
	// wait waits for the workload (killing it when ctx ends) and returns
	// its exit status.
	wait func(ctx context.Context) (int, error)
	// cleanup releases what starting it made.
	cleanup func()
}

// containerEngines names the engines live replay runs a container in.
func containerEngines() []string {
	return engine.Names(func(e engine.Engine) bool { return e.Replay && e.Container })
}

// ociProfile returns prof as an OCI seccomp profile (with
// SECCOMP_FILTER_FLAG_LOG if logFlag) and a new temporary directory for
// what runs under it, which the caller removes.
func ociProfile(prof *learn.Profile, logFlag bool) (doc *specs.LinuxSeccomp, dir string, err error) {
	var oo emit.OCIOptions
	if logFlag {
		oo.Flags = []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog}
	}
	if doc, err = emit.OCI(prof, oo); err != nil {
		return nil, "", err
	}
	if dir, err = os.MkdirTemp("", "profgen-replay-"); err != nil {
		return nil, "", err
	}
	return doc, dir, nil
}

// ociProfileFile writes ociProfile's profile to seccomp.json in its
// directory, for a container engine (named in errors) to read, and returns
// both paths; the caller removes dir.
func ociProfileFile(prof *learn.Profile, logFlag bool, engine string) (doc *specs.LinuxSeccomp, file, dir string, err error) {
	doc, dir, err = ociProfile(prof, logFlag)
	if err != nil {
		return nil, "", "", err
	}
	file = filepath.Join(dir, "seccomp.json")
	if err := fileio.Write(file, nil, func(w io.Writer) error { return emit.WriteOCI(w, doc) }); err != nil {
		os.RemoveAll(dir)
		return nil, "", "", fmt.Errorf("write the profile for %s: %w", engine, err)
	}
	return doc, file, dir, nil
}

// startRunc writes a bundle whose profile is prof (with
// SECCOMP_FILTER_FLAG_LOG if logFlag) and starts it, telling watch its
// audit session before it runs with runc in a fresh audit session.
func startRunc(opts LiveOptions, prof *learn.Profile, logFlag bool, watch func(uint32)) (*workload, error) {
	caps, err := runc.Capabilities(opts.CapAdd, opts.CapDrop)
	if err != nil {
		return nil, err
	}
	doc, dir, err := ociProfile(prof, logFlag)
	if err != nil {
		return nil, err
	}
	bo := runc.BundleOptions{
		Args:            opts.Command,
		Env:             os.Environ(),
		Binds:           opts.Binds,
		Capabilities:    caps,
		NoNewPrivileges: opts.NoNewPrivileges,
		Seccomp:         doc,
	}
	if opts.kernelLandlock != nil {
		binds, launch, err := containerLandlock(opts, *opts.kernelLandlock, dir, doc)
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		// The launcher loads the filter: runc loads none.
		bo.Binds, bo.Launcher, bo.Seccomp = append(slices.Clone(opts.Binds), binds...), launch, nil
	}
	b, err := runc.NewBundle(dir, bo)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	c, err := runc.Start(b, runc.NewID("profgen-replay"), runc.Options{
		Stdio:           runc.Stdio{Stdin: opts.Stdin, Stdout: opts.Stdout, Stderr: opts.Stderr},
		NewAuditSession: true,
		OnAuditSession:  watch,
	})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &workload{
		session:   c.Session,
		done:      c.Done(),
		terminate: func() error { return c.Signal(syscall.SIGTERM) },
		wait:      c.Wait,
		cleanup: func() {
			// Wait deletes the container; this only runs when nothing
			// waited (an error on the way).
			select {
			case <-c.Done():
			default:
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				c.Wait(ctx)
			}
			os.RemoveAll(dir)
		},
	}, nil
}

// drive runs the driver when there is one and waits for the workload. It
// returns the driver's exit status, or the workload's without a driver,
// and records in rep how each ended and which failed.
func drive(ctx context.Context, w *workload, ready trace.Readiness, opts LiveOptions, rep *Report) (int, error) {
	if opts.Drive == "" {
		code, err := w.wait(ctx)
		if err != nil {
			return code, err
		}
		rep.Workload = &Ended{Ran: true, Status: code}
		judgeOwnEnd(rep, opts, code)
		return code, nil
	}
	if err := ready.Wait(ctx, opts.ReadyTimeout, w.done); err != nil {
		if errors.Is(err, context.Canceled) || (errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil) {
			w.wait(cancelled())
			return -1, err
		}
		rep.Driver = &Ended{Status: -1}
		early := false
		select {
		case <-w.done:
			early = true
		default:
		}
		wctx := cancelled() // kills it
		if early {
			wctx = context.Background()
		}
		code, werr := w.wait(wctx)
		if werr != nil && !errors.Is(werr, context.Canceled) {
			return -1, werr // the engine's own failure
		}
		if early {
			rep.Workload = &Ended{Ran: true, Status: code}
			rep.fail("%s exited with status %d before it was ready (%s): the driver was not run", workloadName(opts), code, opts.Ready)
		} else {
			rep.Workload = &Ended{Ran: true, Status: 128 + int(syscall.SIGKILL), Killed: true}
			rep.fail("%s was not ready (%v): it was killed and the driver was not run", workloadName(opts), err)
		}
		return 1, nil
	}
	drv := exec.CommandContext(ctx, "sh", "-c", opts.Drive)
	drv.Stdout, drv.Stderr = opts.Stdout, opts.Stderr
	derr := drv.Run()
	dcode := 0
	if derr != nil {
		var ee *exec.ExitError
		if !errors.As(derr, &ee) {
			w.wait(cancelled())
			return -1, fmt.Errorf("run driver: %w", derr)
		}
		dcode = exitcode.Of(ee.ProcessState)
	}
	rep.Driver = &Ended{Ran: true, Status: dcode}
	if dcode != 0 {
		rep.fail("the driver exited with status %d", dcode)
	}
	// Stop the workload: SIGTERM, then SIGKILL after the grace period.
	stopped := false
	select {
	case <-w.done:
	default:
		stopped = true
		w.terminate()
	}
	gctx, cancel := context.WithTimeout(ctx, opts.Grace)
	defer cancel()
	code, err := w.wait(gctx)
	switch {
	case err == nil:
		rep.Workload = &Ended{Ran: true, Status: code, Stopped: stopped}
		switch {
		case !stopped:
			// It ended on its own while the driver ran.
			judgeOwnEnd(rep, opts, code)
		case code != opts.ExpectExit && !stopStatus(code):
			rep.fail("%s exited with status %d when it was stopped (SIGTERM)", workloadName(opts), code)
		}
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		rep.Workload = &Ended{Ran: true, Status: 128 + int(syscall.SIGKILL), Stopped: true, Killed: true}
		rep.Notes = append(rep.Notes, fmt.Sprintf("workload killed: still running %v after SIGTERM", opts.Grace))
	default:
		return -1, err
	}
	return dcode, nil
}

// judgeOwnEnd fails rep when the workload, ending by itself, did not exit
// with its expected status.
func judgeOwnEnd(rep *Report, opts LiveOptions, code int) {
	if code != opts.ExpectExit {
		rep.fail("%s exited with status %d, expected %d", workloadName(opts), code, opts.ExpectExit)
	}
}

// stopStatus reports whether code is what a process stopped with SIGTERM
// (and SIGKILL after the grace period) may end with: 0, or death by
// either signal.
func stopStatus(code int) bool {
	return code == 0 || code == 128+int(syscall.SIGTERM) || code == 128+int(syscall.SIGKILL)
}

// workloadName names the workload in failures: "the workload (NAME)",
// NAME the program's (or, in podman and docker, the image's) name.
func workloadName(opts LiveOptions) string {
	return fmt.Sprintf("the workload (%s)", filepath.Base(opts.Command[0]))
}

// cancelled returns a context that is already done: waiting with it kills
// the workload at once.
func cancelled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// addDenials turns the audit records of the workload's session into
// violations, one per ABI, syscall, action and process name and executable
// (the pid of the first record kept), sorted by name. A logged or
// errno call is reported with the profile's default action (audit records
// carry no errno); calls p answers with an entry of their own (the ENOSYS
// stubs) are not denials.
func (r *Report) addDenials(recs []audit.Record, p *learn.Profile) error {
	type key struct {
		arch      uint32
		nr        int64
		code      uint32
		exe, comm string
	}
	native, err := abi.Native()
	if err != nil {
		return err
	}
	byKey := map[key]*Violation{}
	for _, rec := range recs {
		act := auditAction(rec.Code)
		switch act.Kind {
		case learn.ActAllow:
			continue
		case learn.ActLog, learn.ActErrno:
			act = p.DefaultAction
		}
		arch, err := rec.ABI()
		if err != nil {
			return err
		}
		name, err := abi.SyscallName(arch, int(rec.Syscall))
		if err != nil {
			name = fmt.Sprintf("syscall-%d", rec.Syscall)
		}
		if arch != native {
			name = string(arch) + ":" + name
		} else if ownEntry(p, name) {
			continue
		}
		k := key{rec.Arch, rec.Syscall, rec.Code, rec.Exe, rec.Comm}
		v, ok := byKey[k]
		if !ok {
			v = &Violation{Syscall: name, Number: int(rec.Syscall), Action: actionName(act), Pid: rec.Pid, Comm: rec.Comm, Exe: rec.Exe}
			byKey[k] = v
		}
		v.Count++
		r.Checked++
	}
	for _, v := range byKey {
		r.Violations = append(r.Violations, *v)
	}
	sort.Slice(r.Violations, func(i, j int) bool { return violationLess(r.Violations[i], r.Violations[j]) })
	return nil
}

// auditAction decodes the seccomp action an audit record carries (code=,
// without the errno: the kernel logs the action only).
func auditAction(code uint32) learn.Action {
	a, err := filter.ActionFromRet(code & unix.SECCOMP_RET_ACTION_FULL)
	if err != nil {
		// TRACE and USER_NOTIF: the profile model has neither; report
		// the call as refused to the workload's own handling.
		return learn.Action{Kind: learn.ActTrap}
	}
	return a
}

// ownEntry reports whether p answers the named syscall with an action of
// its own for every argument (an ENOSYS stub), rather than leaving it to
// the default action: such a call is not a denial. Audit records carry the
// action but not the errno, so the name tells them apart.
func ownEntry(p *learn.Profile, name string) bool {
	e := p.Lookup(name)
	return e != nil && e.Action != learn.Allow && e.Action != learn.Log && len(e.Rules) == 0
}

// collector keeps the seccomp audit records received while a workload
// runs.
type collector struct {
	r *audit.Reader

	// markers takes profgen's own records (audit markers) and waits
	// for them (flush).
	markers *audit.Markers

	mu      sync.Mutex
	recs    []audit.Record
	watched map[uint32]bool // sessions whose records are kept
	// att attributes records: watched sessions, then containers.
	att audit.Attributor
	// containers are the ids of containers whose processes' records are
	// kept (docker), cgroups where processes were, ctrRecs the
	// containers' records, gone the records of processes that exited
	// before their cgroups could be read.
	containers map[string]bool
	sessions   map[uint32]bool // audit sessions the containers' processes may have
	cgroups    container.Cache
	ctrRecs    map[string][]audit.Record
	gone       int
	done       chan struct{}
	// denials are the Landlock denials kept, by container ("" for those
	// of watched sessions), attributed by the process of their event as
	// seccomp's records are; unplaced counts those whose event named no
	// process.
	denials  map[string][]audit.LandlockDenial
	unplaced int
}

// newCollector starts a collector of seccomp's records and, with
// landlock, of Landlock's denials.
func newCollector(landlock bool) (*collector, error) {
	c := &collector{markers: audit.NewMarkers(), watched: map[uint32]bool{}, done: make(chan struct{}),
		containers: map[string]bool{}, sessions: map[uint32]bool{}, ctrRecs: map[string][]audit.Record{},
		denials: map[string][]audit.LandlockDenial{}}
	c.att = audit.Attributor{Sessions: c.watched, Member: c.member}
	var ao audit.Options
	if landlock {
		ao.OnLandlock = c.takeLandlock
	}
	r, err := audit.Open(ao)
	if err != nil {
		return nil, err // a missing feature matches trace.ErrNotSupported
	}
	c.r = r
	go c.loop()
	return c, nil
}

func (c *collector) loop() {
	defer close(c.done)
	for {
		rec, err := c.r.Next()
		if err != nil {
			c.markers.Stop(err)
			return
		}
		if c.markers.Take(rec) {
			continue
		}
		c.mu.Lock()
		c.take(rec)
		c.mu.Unlock()
	}
}

// watch keeps the records of audit session ses from now on; records of
// other sessions (every process on the machine sends to the socket) are
// dropped.
func (c *collector) watch(ses uint32) {
	c.mu.Lock()
	c.watched[ses] = true
	c.mu.Unlock()
}

// watchContainer keeps the records of the processes of container id
// from now on, told apart by their cgroups (internal/container): call it
// before anything of the container runs. ses, if not zero, is the audit
// session the container's processes are expected to have (the daemon's).
func (c *collector) watchContainer(id string, ses uint32) {
	c.mu.Lock()
	c.containers[id] = true
	if ses != 0 {
		c.sessions[ses] = true
	}
	c.mu.Unlock()
}

// take keeps rec if it is of a watched session or of a process in a
// watched container (c.att); c.mu is held. The process is alive when its
// record arrives, or a zombie whose cgroups still read, or was seen before
// (c.cgroups remembers), unless it was reaped before any of its records
// arrived: such a record counts in c.gone when its session may be a
// container's (the daemon's, or one a container's record had; any session
// when none is known), since it may be a denial of the container's.
func (c *collector) take(rec audit.Record) {
	if target, ok := c.place(rec); !ok {
		return
	} else if target == "" {
		c.recs = append(c.recs, rec)
	} else {
		c.ctrRecs[target] = append(c.ctrRecs[target], rec)
	}
}

// takeLandlock keeps a Landlock denial whose event's process (its
// AUDIT_SYSCALL record) is the workload's, as take keeps a seccomp record;
// one whose event named no process is counted.
func (c *collector) takeLandlock(d audit.LandlockDenial) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !d.HasProcess {
		c.unplaced++
		return
	}
	if target, ok := c.place(d.Process); ok {
		c.denials[target] = append(c.denials[target], d)
	}
}

// place attributes the record rec (c.att): ok when it is the workload's,
// target the container whose it is ("" for a watched session's). c.mu is
// held.
func (c *collector) place(rec audit.Record) (target string, ok bool) {
	switch v := c.att.Attribute(rec); v.Why {
	case audit.InSession:
		return "", true
	case audit.InCgroup:
		c.sessions[rec.Ses] = true
		return v.Target, true
	case audit.Gone:
		if len(c.sessions) == 0 || c.sessions[rec.Ses] {
			c.gone++
		}
	}
	return "", false
}

// member places pid in a watched container, by its cgroups; an error when
// it is gone before they could be read. c.mu is held.
func (c *collector) member(pid int) (string, bool, error) {
	for id := range c.containers {
		in, err := c.cgroups.In(pid, id)
		if err != nil || in {
			return id, in, err
		}
	}
	return "", false, nil
}

// pollInterval is how often pollContainer reads the container's
// cgroup.procs.
const pollInterval = 2 * time.Millisecond

// pollContainer reads the processes of container id from its cgroups
// until done is closed and has c.cgroups remember where each was, so that
// a process whose first record arrives after it was reaped (one that dies
// just after a denial, on a busy machine) is still placed. The container's
// main process waits in runc's init, in the container's cgroups, from
// runc create to runc start: it is seen before it runs the workload.
func (c *collector) pollContainer(id string, done <-chan struct{}) {
	mounts, err := container.Mounts()
	if err != nil {
		return
	}
	var dirs []string
	seen := map[int]bool{}
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		if len(dirs) == 0 {
			dirs = container.Dirs(mounts, id)
		}
		for _, pid := range container.Procs(dirs) {
			if !seen[pid] {
				seen[pid] = true
				c.mu.Lock()
				c.cgroups.Cgroups(pid)
				c.mu.Unlock()
			}
		}
		select {
		case <-done:
			return
		case <-tick.C:
		}
	}
}

// container returns the records and Landlock denials of the processes of
// container id, and how many records of processes that were gone before
// they could be attributed arrived meanwhile (any of which may have been
// the container's).
func (c *collector) container(id string) ([]audit.Record, []audit.LandlockDenial, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.ctrRecs[id]), slices.Clone(c.denials[id]), c.gone
}

// session returns the records and Landlock denials of audit session ses.
func (c *collector) session(ses uint32) ([]audit.Record, []audit.LandlockDenial) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []audit.Record
	for _, r := range c.recs {
		if r.Ses == ses {
			out = append(out, r)
		}
	}
	var denials []audit.LandlockDenial
	for _, d := range c.denials[""] {
		if d.Process.Ses == ses {
			denials = append(denials, d)
		}
	}
	return out, denials
}

// unplacedLandlock is how many Landlock denials named no process.
func (c *collector) unplacedLandlock() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.unplaced
}

func (c *collector) lost() uint64 { return c.r.Overruns() }

func (c *collector) close() {
	c.r.Close()
	<-c.done
}

// flush waits until every audit record emitted before the call has
// arrived. The kernel queues audit records in order and sends them from a
// kernel thread, so a workload's last records may still be on the way when
// it has exited. flush emits a marker record of its own
// (audit.EmitMarker), behind them in the queue, and waits for it.
func (c *collector) flush() error {
	m, err := audit.EmitMarker()
	if err != nil {
		return fmt.Errorf("flush audit records: %w", err)
	}
	switch err := c.markers.Wait(m, flushTimeout); {
	case err == nil:
		return nil
	case errors.Is(err, audit.ErrMarkerTimeout):
		return fmt.Errorf("flush audit records: the marker record did not arrive within %v", flushTimeout)
	default:
		return fmt.Errorf("flush audit records: %w", err)
	}
}
