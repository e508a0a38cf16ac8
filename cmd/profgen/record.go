package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/profgen/profgen/filter"
	"github.com/profgen/profgen/internal/fileio"
	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/recording"
	"github.com/profgen/profgen/trace"
)

type recordParams struct {
	output   string
	backend  string
	drive    string
	ready    string
	duration time.Duration
	grace    time.Duration
	base     string
	// maxShapes sizes the eBPF backend's shape map.
	maxShapes uint32
	// landlock records what Landlock governs (the recording's landlock
	// section); paths is whether it was asked for: by default with the
	// ebpf backend, with the log backend only when --landlock is given
	// (which then notes that it records none).
	landlock bool
	paths    bool
}

// maxShapesLimit bounds --max-shapes: the map is allocated in the kernel
// up front (about 100 bytes an entry).
const maxShapesLimit = 1 << 24

// validate checks the flags that need no file or backend.
func (p *recordParams) validate(flags interface{ Changed(string) bool }) error {
	if p.output == "" {
		return errors.New("-o: empty output path")
	}
	if err := checkReady(p.ready, p.drive); err != nil {
		return err
	}
	if p.duration < 0 || p.grace < 0 {
		return errors.New("--duration and --grace must not be negative")
	}
	if p.maxShapes < 1 || p.maxShapes > maxShapesLimit {
		return fmt.Errorf("--max-shapes %d: must be within 1..%d", p.maxShapes, maxShapesLimit)
	}
	if flags.Changed("max-shapes") && recording.BackendName(p.backend) != recording.BackendEBPF {
		return errors.New("--max-shapes sizes the ebpf backend's map: it needs --backend ebpf")
	}
	p.paths = p.landlock && (recording.BackendName(p.backend) == recording.BackendEBPF || flags.Changed("landlock"))
	return nil
}

func newRecordCmd() *cobra.Command {
	var p recordParams
	cmd := &cobra.Command{
		Use:   "record [flags] -- COMMAND [ARGS...]",
		Short: "Run a command and record the system calls it makes",
		Long: `record runs COMMAND and records every system call of it and of everything it
starts (threads, children, double-forked daemons), counted per syscall and
per argument shape, into a recording file.

With the ebpf backend (the default) the command starts in a fresh cgroup v2
and programs on the sys_enter raw tracepoint count its syscalls in the kernel;
this needs root, or CAP_BPF and CAP_PERFMON. Where cgroup v2 cannot be used,
the process tree is followed instead. The log backend runs the command under a
seccomp SCMP_ACT_LOG filter and reads the audit records back; with --base
PROFILE it logs only what PROFILE does not allow, and emit then writes
PROFILE plus what was recorded.

Without --drive the recording ends when every process of the command has
exited (not its first one: a server that forks into the background and
lets its first process exit is followed until its last process ends), at
--duration, or at Ctrl-C; the recording is written in every case.
With --drive, profgen waits until the command is ready (--ready: judged on
the whole process tree, so a daemonising server is ready when its
background process listens), runs the driver with sh -c, then stops the
command (SIGTERM, then SIGKILL after --grace); a failing driver fails the
recording. --duration is a normal end: the command (and the driver) are
stopped, the recording is not marked interrupted, and profgen exits 0.

SIGINT and SIGTERM sent to profgen are passed on to the command, SIGHUP and
SIGQUIT as SIGTERM; a second one kills it. profgen exits with the command's
status (its first process's, 128+N when it died of signal N; 0 for a
daemon whose first process exited 0), with --drive the driver's, or 125
when profgen itself failed.

The output is checked before the command starts: -o FILE creates its
temporary file (.FILE.profgen-tmp-PID-*) beside FILE first, so an
unwritable directory or read-only file system fails at once. The recording
replaces a regular FILE (a new one gets 0666 less the umask, an existing one
keeps its mode), is written through a symbolic link, or straight into a
device or FIFO; -o - writes it to standard output, and the command's
standard output then goes to standard error. If writing fails after the
command ran, the recording is kept in $TMPDIR and the error says where.

The ebpf backend counts each distinct (syscall, argument shape) pair in a
kernel map of --max-shapes entries; events of new pairs that find it full
are lost (counted in the recording's "lost", and emit refuses such a
recording): raise --max-shapes when record warns.

With the ebpf backend the recording also has a landlock section (what
emit --format landlock learns from): every file and directory the command
accessed, by the path the kernel resolved and the Landlock right it
needed, the TCP ports it bound and connected to, and its uses of abstract
UNIX sockets and of signals outside its tree (docs/recording.md#paths).
--landlock=false leaves it out. The log backend records no paths: with
--landlock its recording says so in a note.


The last line says how learning went: the syscalls and argument shapes
learned and when the last new one appeared; it warns when something new
still appeared in the last tenth of the run (the target's shutdown after
profgen stopped it, and exit_group, left out): record for longer, or drive
more of the program.`,
		Example: `  profgen record -- ./server --port 8080
  profgen record -o rec.json --duration 30s -- redis-server --port 6380
  profgen record --drive './load-test http://127.0.0.1:8080' --ready tcp:127.0.0.1:8080 -- ./server
  profgen record --backend log -- make test
  profgen record --backend log --base seccomp.json -o new.json -- ./server --new-feature
  profgen record --max-shapes 262144 -o - -- ./many-ioctls | gzip > rec.json.gz
  profgen record --landlock=false -o rec.json -- ./server`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return errors.New("no command given: usage profgen record [flags] -- COMMAND [ARGS...]")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := p.validate(cmd.Flags()); err != nil {
				return err
			}
			return runRecord(cmd.Context(), &p, args)
		},
	}
	f := cmd.Flags()
	f.SetInterspersed(false) // everything after COMMAND is the command's
	f.StringVarP(&p.output, "output", "o", defaultRecording, "write the recording to FILE, - for standard output")
	f.StringVar(&p.backend, "backend", string(trace.Backends[0].Name), "how to record: "+trace.BackendHelp())
	f.StringVar(&p.drive, "drive", "", "shell command that exercises the target; the target is stopped when it ends")
	f.StringVar(&p.ready, "ready", "", "with --drive, wait until the target is ready: tcp:HOST:PORT or delay:DURATION")
	f.DurationVar(&p.duration, "duration", 0, "stop the target after DURATION (0: no limit)")
	f.DurationVar(&p.grace, "grace", trace.DefaultGrace, "time between SIGTERM and SIGKILL when the target is stopped")
	f.Uint32Var(&p.maxShapes, "max-shapes", trace.DefaultMaxEntries, "ebpf backend: entries of the kernel map counting (syscall, argument shape) pairs; events that find it full are lost")
	f.StringVar(&p.base, "base", "", "with --backend log: an OCI profile whose allowed calls are not logged, so only what is new is recorded")
	f.BoolVar(&p.landlock, "landlock", true, "also record the files, directories, TCP ports and scopes Landlock governs (the landlock section; ebpf backend)")
	return cmd
}

// newBackend constructs the backend named by --backend (trace.Backends);
// base is the --base profile, already read, or nil. The caller closes the
// backend.
func newBackend(p *recordParams, base *learn.Profile) (trace.Backend, error) {
	name := p.backend
	spec, err := trace.LookupBackend(name)
	if err != nil {
		return nil, fmt.Errorf("unknown --backend %q (want %s)", name, strings.Join(trace.BackendNames(), " or "))
	}
	cfg := trace.BackendConfig{MaxShapes: p.maxShapes, Paths: p.paths}
	if base != nil {
		if !spec.Filter {
			return nil, fmt.Errorf("--base needs --backend %s", filterBackends())
		}
		if cfg.Filter, err = baseFilter(base); err != nil {
			return nil, err
		}
	}
	return spec.New(cfg)
}

// filterBackends names the backends that take --base.
func filterBackends() string {
	var names []string
	for _, b := range trace.Backends {
		if b.Filter {
			names = append(names, string(b.Name))
		}
	}
	return strings.Join(names, " or ")
}

// baseFilter compiles the log backend's filter for --base (filter.LogBase).
func baseFilter(base *learn.Profile) ([]byte, error) {
	prog, err := filter.LogBase(base)
	if err != nil {
		return nil, fmt.Errorf("--base: %w", err)
	}
	return prog, nil
}

func runRecord(ctx context.Context, p *recordParams, command []string) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := checkEngineCommand(command); err != nil {
		return err
	}
	var base *learn.Profile
	if p.base != "" {
		// Refuse a bad base profile before the target starts.
		abs, err := filepath.Abs(p.base)
		if err != nil {
			return fmt.Errorf("--base: %w", err)
		}
		if base, err = readProfile(abs); err != nil {
			return err
		}
		p.base = abs
	}
	// Fail before the target runs when the recording cannot be written:
	// the temporary file is created now.
	out, err := fileio.Create(p.output, os.Stdout)
	if err != nil {
		return backendAdvice(err, p.backend, base != nil)
	}
	defer out.Abort()
	backend, err := newBackend(p, base)
	if err != nil {
		return err
	}
	if w := trace.UnderSeccomp(); w != "" {
		fmt.Fprintf(os.Stderr, "profgen: warning: %s\n", w)
	}
	stdout := os.Stdout
	if p.output == fileio.Stdout {
		stdout = os.Stderr // standard output is the recording's
	}

	sigs := make(chan os.Signal, 2)
	catchSignals(sigs, trace.StopSignals...)
	defer signal.Stop(sigs)

	tty := isTerminal(os.Stderr)
	var line statusLine
	opts := trace.Options{
		Command:  command,
		Backend:  backend,
		Drive:    p.drive,
		Ready:    p.ready,
		Duration: p.duration,
		Grace:    p.grace,
		Stdin:    os.Stdin,
		Stdout:   stdout,
		Stderr:   os.Stderr,
		Signals:  sigs,
		Tool:     "profgen " + version,
	}
	if tty {
		opts.Status = func(s trace.Status) { line.show(os.Stderr, s) }
	}
	res, err := trace.Record(ctx, opts)
	if cerr := backend.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("close %s backend: %w", backend.Name(), cerr)
	}
	line.clear(os.Stderr)
	if err != nil {
		return backendAdvice(err, p.backend, base != nil)
	}
	rec := res.Recording
	rec.Base = p.base
	if res.DriverErr != nil {
		code := res.ExitCode
		if code == 0 {
			code = 1
		}
		return &exitError{code: code, err: fmt.Errorf("%v; recording not written", res.DriverErr)}
	}
	if err := commitRecording(out, rec); err != nil {
		return err
	}
	where := p.output
	if where == fileio.Stdout {
		where = "standard output"
	}
	var limit time.Duration
	if res.Limited {
		limit = p.duration
	}
	summary(os.Stderr, rec, where, limit)
	for _, w := range res.Warnings {
		fmt.Fprintf(os.Stderr, "profgen: warning: %s\n", w)
	}
	if rec.Lost > 0 && recording.BackendName(p.backend) == recording.BackendEBPF {
		fmt.Fprintf(os.Stderr, "profgen: warning: record again with a larger --max-shapes (it was %d) so that every (syscall, argument shape) pair fits\n", p.maxShapes)
	}
	// How learning went, last (recording.Saturation).
	sat := rec.Saturation()
	fmt.Fprintf(os.Stderr, "profgen: %s\n", sat)
	if w := sat.Warning(); w != "" {
		fmt.Fprintf(os.Stderr, "profgen: warning: %s\n", w)
	}
	if res.ExitCode != 0 {
		return &exitError{code: res.ExitCode}
	}
	return nil
}

// commitRecording writes rec to out. When that fails the target already ran:
// the recording is then kept in a new file in $TMPDIR, and the error says
// where.
func commitRecording(out *fileio.File, rec *recording.Recording) error {
	err := rec.Encode(out)
	if err == nil {
		err = out.Commit()
	}
	if err == nil {
		return nil
	}
	out.Abort()
	keep, kerr := os.CreateTemp("", "profgen-recording-*.json")
	if kerr == nil {
		kerr = rec.Encode(keep)
		if cerr := keep.Close(); kerr == nil {
			kerr = cerr
		}
		if kerr != nil {
			os.Remove(keep.Name())
		}
	}
	if kerr != nil {
		return fmt.Errorf("%w; keeping the recording in $TMPDIR failed too, it is lost: %v", err, kerr)
	}
	return fmt.Errorf("%w; the recording was kept in %s", err, keep.Name())
}

// summary prints what was recorded; limit, when not zero, is the
// --duration at which the target was stopped.
func summary(w io.Writer, rec *recording.Recording, path string, limit time.Duration) {
	var total uint64
	for _, s := range rec.Syscalls {
		total += s.Count
	}
	how := ""
	switch {
	case rec.Interrupted:
		how = " (interrupted)"
	case limit > 0:
		how = fmt.Sprintf(" (stopped at --duration %v)", limit)
	case rec.Exit.Signal != "":
		how = " (killed by " + rec.Exit.Signal + ")"
	}
	fmt.Fprintf(w, "profgen: recorded %d syscalls (%d distinct) from %s in %s%s; lost %d; wrote %s\n",
		total, len(rec.Syscalls), strings.Join(rec.Command, " "),
		rec.End.Sub(rec.Start).Round(time.Millisecond), how, rec.Lost, path)
}

// statusLine is the live progress line on a terminal, rewritten with \r.
type statusLine struct{ width int }

func (l *statusLine) show(w io.Writer, s trace.Status) {
	distinct := "?"
	if s.Distinct >= 0 {
		distinct = fmt.Sprint(s.Distinct)
	}
	text := fmt.Sprintf("profgen: recording %s  %d syscalls  %s distinct",
		s.Elapsed.Round(100*time.Millisecond), s.Events, distinct)
	pad := ""
	if n := l.width - len(text); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	fmt.Fprintf(w, "\r%s%s", text, pad)
	l.width = len(text)
}

func (l *statusLine) clear(w io.Writer) {
	if l.width > 0 {
		fmt.Fprintf(w, "\r%s\r", strings.Repeat(" ", l.width))
		l.width = 0
	}
}
