// Command profgen learns a minimal seccomp profile by watching a program run.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/profgen/profgen/trace"
)

func main() {
	// The log backend re-executes profgen as a tiny launcher that installs
	// the recording filter and execs the target; it must run before cobra.
	trace.MaybeLauncher()

	err := newRootCmd().Execute()
	if err == nil {
		return
	}
	var ex *exitError
	if errors.As(err, &ex) {
		if ex.err != nil {
			fmt.Fprintf(os.Stderr, "profgen: %v\n", ex.err)
		}
		os.Exit(ex.code)
	}
	fmt.Fprintf(os.Stderr, "profgen: %v\n", err)
	os.Exit(1)
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
