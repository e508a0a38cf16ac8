// Command profgen learns a minimal seccomp profile by watching a program run.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/profgen/profgen/internal/exitcode"
	"github.com/profgen/profgen/internal/fileio"
	"github.com/profgen/profgen/trace"
)

func main() {
	// The log backend re-executes profgen as a tiny launcher that installs
	// the recording filter and execs the target; it must run before cobra.
	trace.MaybeLauncher()

	ctx, cancel := signalContext()
	defer cancel(nil)
	cmd, err := newRootCmd().ExecuteContextC(ctx)
	if err == nil {
		return
	}
	code := failStatus(cmd.Name())
	var ex *exitError
	if errors.As(err, &ex) {
		code, err = ex.code, ex.err
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "profgen: %v\n", err)
	}
	cancel(nil)
	os.Exit(code)
}

// failStatus is the exit status of a command's own failures: record passes
// its target's statuses on, so its own is exitcode.Tool; replay and diff
// keep 1 for what they find. The table of statuses is internal/exitcode.
func failStatus(command string) int {
	switch command {
	case "record":
		return exitcode.Tool
	case "replay", "diff":
		return exitcode.Error
	}
	return exitcode.Failed
}

// signalsTaken holds a bit 1<<N for each signal N the running command
// handles itself (record and live replay pass SIGINT and SIGTERM on to
// their target).
var signalsTaken atomic.Uint64

// takeSignals tells main's handler that the running command now handles
// sigs itself.
func takeSignals(sigs ...os.Signal) {
	for _, s := range sigs {
		if sig, ok := s.(syscall.Signal); ok {
			signalsTaken.Or(1 << uint(sig))
		}
	}
}

// catchSignals makes the running command catch sigs on ch, and main's
// handler let them be. Those profgen was started with ignored (nohup, a
// script's "&") stay ignored, as in signalContext.
func catchSignals(ch chan<- os.Signal, sigs ...os.Signal) {
	if sigs = notIgnored(sigs); len(sigs) == 0 {
		return // signal.Notify of no signal would relay every signal
	}
	signal.Notify(ch, sigs...)
	takeSignals(sigs...) // after Notify: none is missed
}

// notIgnored returns those of sigs profgen was not started with ignored.
func notIgnored(sigs []os.Signal) []os.Signal {
	var out []os.Signal
	for _, s := range sigs {
		if !signal.Ignored(s) {
			out = append(out, s)
		}
	}
	return out
}

// taken reports whether the running command handles s itself.
func taken(s os.Signal) bool {
	sig, ok := s.(syscall.Signal)
	return ok && signalsTaken.Load()&(1<<uint(sig)) != 0
}

// signalContext returns the context every command runs in. SIGINT, SIGTERM
// or SIGHUP cancels it, with the signal as its cause; unless the command
// took that signal (takeSignals), profgen then removes the temporary files
// of outputs not yet written and dies of that signal. A signal profgen was
// started with ignored (nohup) stays ignored.
func signalContext() (context.Context, context.CancelCauseFunc) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	if own := notIgnored([]os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP}); len(own) > 0 {
		signal.Notify(sigs, own...)
	}
	go func() {
		for s := range sigs {
			if taken(s) {
				continue
			}
			cancel(fmt.Errorf("interrupted by %v", s))
			fileio.RemoveTemps()
			signal.Reset(s)
			if sig, ok := s.(syscall.Signal); ok {
				// Die of the signal, as without a handler; the
				// exit is a fallback should it not arrive.
				syscall.Kill(os.Getpid(), sig)
				time.Sleep(5 * time.Second)
				os.Exit(128 + int(sig))
			}
			os.Exit(exitcode.Failed)
		}
	}()
	return ctx, cancel
}

// exitError makes profgen exit with code; err, if set, is printed first.
// record and replay use it to pass on the target's exit status.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err != nil {
		return e.err.Error()
	}
	return fmt.Sprintf("exit status %d", e.code)
}

func (e *exitError) Unwrap() error { return e.err }
