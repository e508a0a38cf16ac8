package trace

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/argspec"
	"github.com/profgen/profgen/internal/cgroup"
	"github.com/profgen/profgen/internal/exitcode"
	"github.com/profgen/profgen/internal/proc"
	"github.com/profgen/profgen/internal/seccomp"
	"github.com/profgen/profgen/recording"
)

// DefaultGrace is how long a stopped target tree gets between SIGTERM and
// SIGKILL when Options.Grace is zero.
const DefaultGrace = 5 * time.Second

// Options configures one recording.
type Options struct {
	// Command is the target's command line; Command[0] is looked up in
	// PATH.
	Command []string
	// Backend observes the target. Record does not close it: the caller
	// that created it does.
	Backend Backend
	// Drive, if set, is a shell command run with sh -c once the target is
	// ready; when it ends the target tree is stopped. Its failure fails
	// the recording.
	Drive string
	// Ready says when the target is ready for Drive: "" (at once),
	// "tcp:HOST:PORT" (it accepts connections) or "delay:DURATION".
	Ready        string
	ReadyTimeout time.Duration // 0: DefaultReadyTimeout
	// Duration limits the recording; 0 means no limit. When it expires
	// the target tree is stopped (and the driver with it) and the
	// recording ends normally: not interrupted, see Result.Limited.
	Duration time.Duration
	// Grace is the time between SIGTERM and SIGKILL when the tree is
	// stopped; 0 means DefaultGrace.
	Grace time.Duration

	Stdin          io.Reader
	Stdout, Stderr io.Writer

	// Signals carries the StopSignals received by the caller, to be
	// passed on to the target (SIGHUP and SIGQUIT as SIGTERM). A second
	// one, or Grace elapsing, kills the target tree. Nil: none.
	Signals <-chan os.Signal
	// Status, if set, is called about four times a second with progress.
	Status func(Status)
	// NoCgroup forces the process-tree fallback.
	NoCgroup bool
	// ArgTable says which arguments are captured; nil means argspec.Table.
	ArgTable []argspec.Entry
	// Tool names the recording tool and version, e.g. "profgen 0.1.0".
	Tool string
}

// Status is a recording's progress.
type Status struct {
	Elapsed time.Duration
	// Events is the number of syscalls seen so far.
	Events uint64
	// Distinct is the number of distinct syscalls seen so far, or -1 when
	// the backend cannot tell.
	Distinct int
}

// Result is the outcome of Record.
type Result struct {
	Recording *recording.Recording
	// ExitCode is the target's exit status (128+N when it died of signal
	// N): its first process's, also when that process daemonised and
	// exited while the rest of the tree ran on; with Drive, the driver's.
	// See Limited for the end at Duration.
	ExitCode int
	// DriverErr is set when the driver failed. The recording is still
	// returned.
	DriverErr error
	// Limited is set when the recording ended at Options.Duration: the
	// target tree was stopped then. That is a normal end: the recording
	// is not interrupted, and ExitCode is 0 when the stop ended the
	// target's main process.
	Limited bool
	// Warnings are things the user must be told, such as lost events.
	// They are in the recording's notes too, but for those about the
	// machine: stale cgroups of killed profgen processes that were removed.
	Warnings []string
}

// Record runs opts.Command under opts.Backend and returns what it did.
// Whatever happens, when Record returns no process of the target tree runs
// any more and the recording's cgroup is removed. The backend stays open:
// its creator closes it.
func Record(ctx context.Context, opts Options) (res *Result, err error) {
	if opts.Backend == nil {
		return nil, errors.New("record: no backend")
	}
	if len(opts.Command) == 0 || opts.Command[0] == "" {
		return nil, errors.New("no command given")
	}
	arch, masks, args, err := nativeArgTable(opts.ArgTable)
	if err != nil {
		return nil, err
	}
	ready, err := parseReady(opts.Ready)
	if err != nil {
		return nil, err
	}
	if opts.Ready != "" && opts.Drive == "" {
		return nil, errors.New("a readiness check needs a driver command")
	}
	path, err := lookCommand(opts.Command[0])
	if err != nil {
		return nil, err
	}
	if opts.Grace <= 0 {
		opts.Grace = DefaultGrace
	}

	// The target and the driver may share a writer: serialise it.
	opts.Stdout, opts.Stderr = syncWriters(opts.Stdout, opts.Stderr)
	s := &session{opts: opts, backend: opts.Backend}
	defer s.cleanup()

	if w := UnderSeccomp(); w != "" {
		s.notes = append(s.notes, w)
	}
	if opts.NoCgroup {
		s.notes = append(s.notes, "cgroup v2 not used (process-tree mode was asked for): the target's processes were followed through fork and exit")
	} else {
		cg, err := cgroup.New()
		switch {
		case err == nil:
			s.cg = cg
		case errors.Is(err, fs.ErrPermission):
			return nil, fmt.Errorf("%w (run profgen as root, or with write access to the cgroup2 mount)", err)
		default:
			s.notes = append(s.notes, fmt.Sprintf("cgroup v2 could not be used (%v): the target's processes were followed through fork and exit instead", err))
		}
	}
	if c, ok := s.backend.(ArgCapturer); ok {
		if err := c.CaptureArgs(masks); err != nil {
			return nil, err
		}
	}

	cmd := exec.Command(path, opts.Command[1:]...)
	cmd.Args = append([]string(nil), opts.Command...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = opts.Stdin, opts.Stdout, opts.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	if s.cg != nil {
		// The target is born in the cgroup (clone3 CLONE_INTO_CGROUP):
		// nothing it does from its execve on is missed.
		cmd.SysProcAttr.UseCgroupFD = true
		cmd.SysProcAttr.CgroupFD = s.cg.FD()
	} else {
		// No cgroup, so no reaper: should profgen be killed, the
		// kernel kills the target's main process at least.
		cmd.SysProcAttr.Pdeathsig = unix.SIGKILL
	}
	target := &Target{Cmd: cmd, Cgroup: s.cg}
	if err := s.backend.Prepare(target); err != nil {
		return nil, fmt.Errorf("prepare %s backend: %w", s.backend.Name(), err)
	}
	s.cmd = target.Cmd
	if t, ok := s.backend.(TreeFollower); ok && s.cg == nil {
		s.tree = t
	}
	if w, ok := s.backend.(MoveWatcher); ok && s.cg != nil {
		// Without it the escape tracker polls: slower to see a move,
		// and more of a CPU.
		s.moves, _ = w.WatchMoves()
	}

	s.start = time.Now()
	if opts.Duration > 0 {
		t := time.NewTimer(opts.Duration)
		defer t.Stop()
		s.limit = t.C
	}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", opts.Command[0], err)
	}
	if s.cg != nil {
		s.escapes = cgroup.TrackEscapes(s.cg, s.cmd.Process.Pid, s.moves)
	}
	if err := s.backend.Start(s.cmd.Process.Pid); err != nil {
		return nil, fmt.Errorf("start %s backend: %w", s.backend.Name(), err)
	}
	s.exited = make(chan struct{})
	go func() {
		s.cmd.Wait()
		if s.tree != nil {
			// Reaped: its pid may be reused, so it must not stay in
			// the tree (Start may have added it after it ended).
			s.tree.Untrack(s.cmd.Process.Pid)
		}
		close(s.exited)
	}()

	res = &Result{}
	if opts.Drive != "" {
		if err := s.drive(ctx, ready, res); err != nil {
			return nil, err
		}
	} else {
		s.follow(ctx)
	}
	s.end = time.Now()
	s.endNotes()
	escaped := s.escapes.Finish(!s.stopping, s.opts.Grace)
	s.notes = append(s.notes, escaped...)

	obs, err := collect(s.backend)
	if err != nil {
		return nil, err
	}
	rec, warnings, err := buildRecording(run{
		tool:        s.opts.Tool,
		command:     s.opts.Command,
		backend:     s.backend.Name(),
		start:       s.start,
		end:         s.end,
		ready:       s.ready,
		stopped:     s.stoppedAt,
		interrupted: s.interrupted,
		notes:       s.notes,
		exit:        s.cmd.ProcessState,
	}, arch, obs, args)
	if err != nil {
		return nil, err
	}
	res.Recording = rec
	res.Warnings = append(escaped, warnings...)
	if s.cg != nil {
		// About the machine, not this recording: not in its notes.
		res.Warnings = append(res.Warnings, s.cg.Stale...)
	}
	res.Limited = s.limited
	if opts.Drive == "" {
		res.ExitCode = rec.Exit.Code
		if s.limited && s.limitedMain && !s.interrupted {
			// Stopped at Duration, as asked: a normal end. The
			// recording keeps the status the stop gave it.
			res.ExitCode = 0
		}
	}
	return res, nil
}

// endNotes adds the notes on how the recording ended: at Duration, and
// with a main process that exited while the rest of its tree ran on.
func (s *session) endNotes() {
	if s.limited {
		s.notes = append(s.notes, fmt.Sprintf("the recording ended at its duration (%v): the target was stopped then", s.opts.Duration))
	}
	if s.outlived {
		s.notes = append(s.notes, fmt.Sprintf(
			"the target's first process exited with status %d while other processes of its tree ran on (it daemonised): they were recorded until they ended or were stopped; the exit status is the first process's",
			exitcode.Of(s.cmd.ProcessState)))
	}
}

// UnderSeccomp returns, when profgen itself runs under seccomp (in a
// container, under systemd's SystemCallFilter=, below a sandbox), a
// sentence saying so and what it means for a recording; "" otherwise. The
// target inherits the filter, and seccomp decides before the sys_enter
// tracepoint: a call that filter refuses never reaches the recorder.
func UnderSeccomp() string {
	st, err := seccomp.ReadStatus(os.Getpid())
	if err != nil || st.Mode == 0 {
		return ""
	}
	what := "a seccomp filter"
	switch {
	case st.Mode == 1:
		what = "seccomp strict mode"
	case st.Filters > 1:
		what = fmt.Sprintf("%d seccomp filters", st.Filters)
	}
	return fmt.Sprintf("profgen itself runs under %s (Seccomp: %d in /proc/self/status; a container, systemd's SystemCallFilter=, a sandbox): the target inherits it, and the calls it refuses never reach the recorder, so they are missing from the recording", what, st.Mode)
}

// lookCommand finds the target's executable as exec.LookPath does, with an
// error that says what is wrong: a file that is not executable or a
// directory is not "not found".
func lookCommand(name string) (string, error) {
	path, err := exec.LookPath(name)
	if err == nil {
		return path, nil
	}
	if !strings.Contains(name, "/") {
		if st, serr := os.Stat(name); serr == nil && !st.IsDir() {
			return "", fmt.Errorf("command not found: %s (not in PATH; to run the file %s here, give ./%s)", name, name, name)
		}
		return "", fmt.Errorf("command not found: %s", name)
	}
	st, serr := os.Stat(name)
	switch {
	case serr != nil:
		var pe *fs.PathError
		if errors.As(serr, &pe) {
			serr = pe.Err
		}
		return "", fmt.Errorf("command not found: %s (%w)", name, serr)
	case st.IsDir():
		return "", fmt.Errorf("command %s: is a directory", name)
	case errors.Is(err, fs.ErrPermission):
		return "", fmt.Errorf("command %s: not executable (permission denied)", name)
	}
	return "", fmt.Errorf("command %s: %w", name, err)
}

// session is the state of one Record call.
type session struct {
	opts    Options
	backend Backend
	cg      *Cgroup
	escapes *cgroup.EscapeTracker // in cgroup mode
	moves   <-chan struct{}       // the backend's MoveWatcher channel; nil: none
	tree    TreeFollower
	cmd     *exec.Cmd
	exited  chan struct{} // closed once cmd.Wait returned
	notes   []string

	start, end time.Time
	// ready is when the target was ready (Options.Ready), zero before.
	ready       time.Time
	interrupted bool
	// limited is set when Duration expired and the tree was stopped for
	// it: a stop the user asked for, not an interruption. limitedMain
	// says the main process still ran then (the stop ended it).
	limited, limitedMain bool
	// exitSeen is set once a loop saw the main process end; outlived
	// then says whether other processes of the tree ran on (a daemon).
	exitSeen, outlived bool
	// stopping is set once the tree was sent SIGTERM; grace then fires
	// the SIGKILL.
	stopping bool
	// stoppedAt is when the tree was first told to stop (zero: never).
	stoppedAt time.Time
	grace     <-chan time.Time
	signals   int
	// limit fires when Options.Duration is over.
	limit <-chan time.Time
}

// mainExited reports whether the target's main process ended and was
// reaped.
func (s *session) mainExited() bool {
	select {
	case <-s.exited:
		return true
	default:
		return false
	}
}

// procs returns the processes of the target tree that still exist.
func (s *session) procs() []int {
	var pids []int
	switch {
	case s.cg != nil:
		pids, _ = s.cg.Procs()
	case s.tree != nil:
		pids, _ = s.tree.TreePids()
	default:
		if !s.mainExited() {
			pids = proc.Descendants(s.cmd.Process.Pid)
		}
	}
	if !s.mainExited() && s.cmd.Process != nil {
		pids = append(pids, s.cmd.Process.Pid)
	}
	pids = append(pids, s.escapes.Current()...)
	live := pids[:0]
	seen := map[int]bool{}
	for _, pid := range pids {
		if seen[pid] {
			continue
		}
		seen[pid] = true
		// The tracked map may name a process that already ended (the
		// target can exit before Start adds it).
		if err := unix.Kill(pid, 0); err == nil || err == unix.EPERM {
			live = append(live, pid)
		}
	}
	return live
}

// exitedC returns the channel that is closed when the main process ended,
// or nil once a loop saw it (a closed channel would make its select spin).
func (s *session) exitedC() <-chan struct{} {
	if s.exitSeen {
		return nil
	}
	return s.exited
}

// sawExit is called when a loop sees the main process end: it notes
// whether the rest of the tree runs on, as a server's that daemonised does.
func (s *session) sawExit() {
	s.exitSeen = true
	s.outlived = !s.empty()
}

// limitReached handles the end of Options.Duration: the tree is stopped, and the
// recording ends normally.
func (s *session) limitReached() {
	s.limit = nil
	s.limited = true
	s.limitedMain = !s.mainExited()
	s.stopTree()
}

// empty reports whether every process of the target tree ended.
func (s *session) empty() bool {
	if !s.mainExited() {
		return false
	}
	if s.cg != nil {
		populated, err := s.cg.Populated()
		return err == nil && !populated
	}
	return len(s.procs()) == 0
}

// signalTree sends sig to every process of the target tree.
func (s *session) signalTree(sig syscall.Signal) {
	for _, pid := range s.procs() {
		unix.Kill(pid, sig)
	}
}

// killTree kills every process of the target tree.
func (s *session) killTree() {
	if s.cg != nil {
		s.cg.Kill()
		s.escapes.Kill()
		return
	}
	s.signalTree(unix.SIGKILL)
}

// stopTree sends the tree SIGTERM and arms the SIGKILL after the grace
// period.
func (s *session) stopTree() {
	if s.stopping {
		return
	}
	s.stopping = true
	s.markStopping()
	s.signalTree(unix.SIGTERM)
	s.grace = time.After(s.opts.Grace)
}

// interrupt handles a signal (or ctx's end) meant for the target: the first
// one is passed on to the target's main process (or, once it exited, to
// every process left) and arms the SIGKILL; a second one kills the tree.
func (s *session) interrupt(sig syscall.Signal) {
	s.interrupted = true
	s.signals++
	if s.signals > 1 {
		s.killTree()
		return
	}
	recipients := s.procs()
	if !s.mainExited() {
		recipients = []int{s.cmd.Process.Pid}
	}
	// A Ctrl-C on the terminal was delivered to the whole foreground
	// process group: processes of the target in it already have it and
	// must not get it twice (a second SIGINT makes many programs skip
	// their orderly shutdown).
	fg := 0
	if sig == unix.SIGINT {
		fg = foregroundGroup()
	}
	for _, pid := range recipients {
		if fg > 0 {
			if pgid, err := unix.Getpgid(pid); err == nil && pgid == fg {
				continue
			}
		}
		unix.Kill(pid, sig)
	}
	if !s.stopping {
		s.stopping = true
		s.markStopping()
		s.grace = time.After(s.opts.Grace)
	}
}

// foregroundGroup returns the foreground process group of profgen's
// controlling terminal when profgen is in it, and 0 otherwise.
func foregroundGroup() int {
	fd, err := unix.Open("/dev/tty", unix.O_RDONLY|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0
	}
	defer unix.Close(fd)
	fg, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP)
	if err != nil || fg != unix.Getpgrp() {
		return 0
	}
	return fg
}

// statusTicker returns a status ticker channel, or nil without a Status callback.
func (s *session) statusTicker() (<-chan time.Time, func()) {
	if s.opts.Status == nil {
		return nil, func() {}
	}
	t := time.NewTicker(250 * time.Millisecond)
	return t.C, t.Stop
}

func (s *session) status() {
	st := Status{Elapsed: time.Since(s.start), Events: s.backend.Events(), Distinct: -1}
	if d, ok := s.backend.(DistinctCounter); ok {
		st.Distinct = d.Distinct()
	}
	s.opts.Status(st)
}

// follow waits until the whole target tree ended, Duration expired or the
// recording was interrupted (and the tree then ended). The tree, not its
// main process: a server that daemonises lets its first process exit at
// once and serves from a grandchild.
func (s *session) follow(ctx context.Context) {
	statusC, stop := s.statusTicker()
	defer stop()
	// The tree is looked at when it may have changed: its main process
	// ended, or cgroup.events changed; and by a poll besides.
	wait := cgroup.NewEmptyWait(s.cg)
	defer wait.Stop()
	done := ctx.Done()
	for !s.empty() {
		select {
		case <-s.exitedC():
			s.sawExit() // the loop condition looks at the rest of the tree
		case <-wait.Events.C():
		case <-wait.Poll.C:
		case <-statusC:
			s.status()
		case <-s.limit:
			s.limitReached()
		case sig := <-s.opts.Signals:
			s.interrupt(toSyscallSignal(sig))
		case <-done:
			done = nil
			s.interrupt(unix.SIGTERM)
		case <-s.grace:
			s.grace = nil
			s.killTree()
		}
	}
	if !s.exitSeen {
		<-s.exited // the tree is empty: the main process is reaped
		s.exitSeen = true
	}
	if statusC != nil {
		s.status()
	}
}

// markStopping notes when profgen began to stop the target, before the
// first signal, and tells a backend that needs it (StopMarker); a backend
// that cannot is noted in the recording.
func (s *session) markStopping() {
	s.stoppedAt = time.Now()
	if m, ok := s.backend.(StopMarker); ok {
		if err := m.MarkStopping(s.stoppedAt); err != nil {
			s.notes = append(s.notes, fmt.Sprintf("the %s backend could not mark when the target was stopped (%v): calls of its shutdown may count as first seen before stoppedAtMs", s.backend.Name(), err))
		}
	}
}

// markReady notes that the target is ready, and tells a backend that
// counts phases.
func (s *session) markReady() error {
	if s.opts.Ready == "" {
		return nil
	}
	s.ready = time.Now()
	if p, ok := s.backend.(PhaseMarker); ok {
		if err := p.MarkReady(s.ready); err != nil {
			return fmt.Errorf("%s backend: %w", s.backend.Name(), err)
		}
	}
	return nil
}

// drive waits for readiness, runs the driver, then stops the target tree.
// The target is gone, for the readiness wait, only when its whole tree
// ended: the first process of a server that daemonises exits at once.
func (s *session) drive(ctx context.Context, ready readiness, res *Result) error {
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	gone := make(chan struct{})
	readyErr := make(chan error, 1)
	go func() { readyErr <- ready.wait(rctx, s.opts.ReadyTimeout, gone) }()
	statusC, stop := s.statusTicker()
	defer stop()
	wait := cgroup.NewEmptyWait(s.cg)
	defer wait.Stop()
	// look closes gone once the whole tree ended.
	isGone := false
	look := func() {
		if !isGone && s.empty() {
			close(gone)
			isGone = true
		}
	}
	for waiting := true; waiting; {
		select {
		case err := <-readyErr:
			if err != nil {
				switch {
				case s.limited:
					return fmt.Errorf("--duration %v ended before the target was ready", s.opts.Duration)
				case s.interrupted:
					return fmt.Errorf("interrupted before the target was ready")
				case errors.Is(err, errTargetGone) && s.cmd.ProcessState != nil:
					return fmt.Errorf("wait for %s: %w (its first process exited with status %d, and no process of its tree is left)",
						s.opts.Ready, err, exitcode.Of(s.cmd.ProcessState))
				}
				return fmt.Errorf("wait for %s: %w", s.opts.Ready, err)
			}
			waiting = false
			if err := s.markReady(); err != nil {
				return err
			}
		case <-s.exitedC():
			s.sawExit()
			look()
		case <-wait.Events.C():
			look()
		case <-wait.Poll.C:
			look()
		case <-statusC:
			s.status()
		case sig := <-s.opts.Signals:
			s.interrupt(toSyscallSignal(sig))
			cancel()
		case <-s.limit:
			s.limitReached()
			cancel()
		case <-s.grace:
			s.grace = nil
			s.killTree()
		}
	}

	driver := exec.Command("/bin/sh", "-c", s.opts.Drive)
	driver.Stdout, driver.Stderr = s.opts.Stdout, s.opts.Stderr
	driver.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := driver.Start(); err != nil {
		return fmt.Errorf("start driver: %w", err)
	}
	driverDone := make(chan error, 1)
	go func() { driverDone <- driver.Wait() }()
	done := ctx.Done()
	for running := true; running; {
		select {
		case err := <-driverDone:
			running = false
			res.ExitCode = exitcode.Of(driver.ProcessState)
			switch {
			case s.limited && !s.interrupted:
				// Stopped by --duration: the end the user asked for,
				// not the driver's failure.
				res.ExitCode = 0
				s.notes = append(s.notes, fmt.Sprintf("the driver was stopped at the end of the recording's duration (%v), before it finished", s.opts.Duration))
			case err != nil:
				res.DriverErr = fmt.Errorf("driver %q failed: %v", s.opts.Drive, err)
			}
		case <-s.exitedC():
			s.sawExit()
		case <-statusC:
			s.status()
		case sig := <-s.opts.Signals:
			s.interrupted = true
			unix.Kill(-driver.Process.Pid, toSyscallSignal(sig))
			s.interrupt(toSyscallSignal(sig))
		case <-done:
			done = nil
			s.interrupted = true
			unix.Kill(-driver.Process.Pid, unix.SIGTERM)
			s.interrupt(unix.SIGTERM)
		case <-s.limit:
			unix.Kill(-driver.Process.Pid, unix.SIGTERM)
			s.limitReached()
		case <-s.grace:
			s.grace = nil
			unix.Kill(-driver.Process.Pid, unix.SIGKILL)
			s.killTree()
		}
	}
	if s.empty() && !s.stopping {
		s.notes = append(s.notes, "every process of the target exited before the driver finished")
	}
	// The driver is done: stop the target. Its own end is not an
	// interruption of the recording.
	interrupted := s.interrupted
	s.stopTree()
	s.follow(ctx)
	s.interrupted = interrupted
	return nil
}

// syncWriter serialises writes to a writer that is not a file.
type syncWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (w syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

// syncWriters wraps writers other than files (which os/exec hands to the
// child as they are) so that the copying goroutines of two processes do
// not race; one lock serves both when they are the same writer.
func syncWriters(out, err io.Writer) (io.Writer, io.Writer) {
	var mu sync.Mutex
	wrap := func(w io.Writer) io.Writer {
		if _, ok := w.(*os.File); ok || w == nil {
			return w
		}
		return syncWriter{mu: &mu, w: w}
	}
	return wrap(out), wrap(err)
}

// cleanup leaves nothing of the session behind: no process of the target
// tree, no cgroup.
func (s *session) cleanup() {
	if s.cmd != nil && s.exited != nil {
		if !s.empty() {
			s.killTree()
			<-s.exited
			for i := 0; i < 200 && len(s.procs()) > 0; i++ {
				s.killTree()
				time.Sleep(10 * time.Millisecond)
			}
		}
	} else if s.cmd != nil && s.cmd.Process != nil {
		// Started, but the backend's Start failed.
		s.killTree()
		s.cmd.Process.Kill()
		s.cmd.Wait()
	}
	s.escapes.Close()
	if s.cg != nil {
		s.cg.Close()
	}
}
