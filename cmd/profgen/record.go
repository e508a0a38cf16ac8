package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/replay"
	"github.com/profgen/profgen/trace"
	"github.com/profgen/profgen/trace/recording"
)

type recordParams struct {
	output   string
	backend  string
	drive    string
	ready    string
	duration time.Duration
	grace    time.Duration
	base     string
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
exited, at --duration, or at Ctrl-C; the recording is written in every case.
With --drive, profgen waits until the command is ready (--ready), runs the
driver with sh -c, then stops the command (SIGTERM, then SIGKILL after
--grace); a failing driver fails the recording.

SIGINT and SIGTERM sent to profgen are passed on to the command; a second one
kills it. profgen exits with the command's status (128+N when it died of
signal N), with --drive the driver's, or 1 when profgen itself failed.`,
		Example: `  profgen record -- ./server --port 8080
  profgen record -o rec.json --duration 30s -- redis-server --port 6380
  profgen record --drive './load-test http://127.0.0.1:8080' --ready tcp:127.0.0.1:8080 -- ./server
  profgen record --backend log -- make test
  profgen record --backend log --base seccomp.json -o new.json -- ./server --new-feature`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return errors.New("no command given: usage profgen record [flags] -- COMMAND [ARGS...]")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRecord(cmd.Context(), &p, args)
		},
	}
	f := cmd.Flags()
	f.SetInterspersed(false) // everything after COMMAND is the command's
	f.StringVarP(&p.output, "output", "o", defaultRecording, "write the recording to FILE")
	f.StringVar(&p.backend, "backend", recording.BackendEBPF, "how to record: ebpf or log")
	f.StringVar(&p.drive, "drive", "", "shell command that exercises the target; the target is stopped when it ends")
	f.StringVar(&p.ready, "ready", "", "with --drive, wait until the target is ready: tcp:HOST:PORT or delay:DURATION")
	f.DurationVar(&p.duration, "duration", 0, "stop the target after DURATION (0: no limit)")
	f.DurationVar(&p.grace, "grace", trace.DefaultGrace, "time between SIGTERM and SIGKILL when the target is stopped")
	f.StringVar(&p.base, "base", "", "with --backend log: an OCI profile whose allowed calls are not logged, so only what is new is recorded")
	return cmd
}

// newBackend constructs the backend named by --backend; base is the
// --base profile, already read, or nil.
func newBackend(name string, base *learn.Profile) (trace.Backend, error) {
	switch name {
	case recording.BackendEBPF:
		if base != nil {
			return nil, errors.New("--base needs --backend log")
		}
		return trace.NewEBPF(trace.EBPFOptions{})
	case recording.BackendLog:
		var opts trace.LogOptions
		if base != nil {
			prog, err := baseFilter(base)
			if err != nil {
				return nil, err
			}
			opts.Filter = prog
		}
		return trace.NewLog(opts)
	}
	return nil, fmt.Errorf("unknown --backend %q (want ebpf or log)", name)
}

// baseFilter compiles the log backend's filter for --base: what base allows
// (argument rules included) is allowed silently, everything else, other
// ABIs too, is logged. The base's own denials become logs as well, so that
// nothing is refused or killed while recording.
func baseFilter(base *learn.Profile) ([]byte, error) {
	p := base.Copy()
	p.DefaultAction = learn.Log
	p.Syscalls = slices.DeleteFunc(p.Syscalls, func(s learn.Syscall) bool { return s.Action != learn.Allow })
	f, err := replay.NewFilter(p, replay.CompileOptions{BadArch: &learn.Log})
	if err != nil {
		return nil, fmt.Errorf("--base: %w", err)
	}
	defer f.Release()
	return trace.FilterProgram(f)
}

func runRecord(ctx context.Context, p *recordParams, command []string) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if p.ready != "" && p.drive == "" {
		return errors.New("--ready needs --drive")
	}
	if p.duration < 0 || p.grace < 0 {
		return errors.New("--duration and --grace must not be negative")
	}
	if err := checkEngineCommand(command); err != nil {
		return err
	}
	// Fail before the target runs when the recording cannot be written.
	if dir := filepath.Dir(p.output); dir != "" {
		if st, err := os.Stat(dir); err != nil {
			return fmt.Errorf("output %s: %w", p.output, err)
		} else if !st.IsDir() {
			return fmt.Errorf("output %s: %s is not a directory", p.output, dir)
		}
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
	backend, err := newBackend(p.backend, base)
	if err != nil {
		return err
	}

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
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
		Stdout:   os.Stdout,
		Stderr:   os.Stderr,
		Signals:  sigs,
		Tool:     "profgen " + version,
	}
	if tty {
		opts.Status = func(s trace.Status) { line.show(os.Stderr, s) }
	}
	res, err := trace.Record(ctx, opts)
	line.clear(os.Stderr)
	if err != nil {
		return err
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
	if err := rec.WriteFile(p.output); err != nil {
		return err
	}
	summary(os.Stderr, rec, p.output)
	for _, w := range res.Warnings {
		fmt.Fprintf(os.Stderr, "profgen: warning: %s\n", w)
	}
	if res.ExitCode != 0 {
		return &exitError{code: res.ExitCode}
	}
	return nil
}

// summary prints what was recorded.
func summary(w io.Writer, rec *recording.Recording, path string) {
	var total uint64
	for _, s := range rec.Syscalls {
		total += s.Count
	}
	how := ""
	switch {
	case rec.Interrupted:
		how = " (interrupted)"
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

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
