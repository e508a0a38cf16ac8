// Package errs is profgen's error vocabulary shared by every package: one
// typed "not supported" error (Unsupported, matched by
// errors.Is(err, ErrNotSupported)) that names the missing feature and its
// fix, and closed-object errors that match os.ErrClosed.
//
// trace re-exports ErrNotSupported and Unsupported; the CLI adds advice
// about its own flags ("try --backend log") with errors.Is and errors.As,
// so library messages never name a flag.
package errs

import (
	"errors"
	"os"
)

// ErrNotSupported is matched (errors.Is) by every error that means a
// kernel feature or a permission profgen needs is missing.
var ErrNotSupported = errors.New("not supported")

// Unsupported says which feature is missing and what fixes it. It matches
// ErrNotSupported and unwraps to Err.
type Unsupported struct {
	// Op is what failed: "load eBPF recorder", "log backend".
	Op string
	// Feature names what is missing or not permitted.
	Feature string
	// Fix says what makes it work; it may be empty.
	Fix string
	// Err is the underlying error, or nil.
	Err error
}

// Error reads "OP: FEATURE; FIX: ERR", leaving out what is empty.
func (e *Unsupported) Error() string {
	s := e.Feature
	if e.Op != "" {
		s = e.Op + ": " + s
	}
	if e.Fix != "" {
		s += "; " + e.Fix
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is reports whether target is ErrNotSupported.
func (e *Unsupported) Is(target error) bool { return target == ErrNotSupported }

// Unwrap returns Err.
func (e *Unsupported) Unwrap() error { return e.Err }

// Closed returns the error of an object used after Close: its message is
// "WHAT is closed" and it matches os.ErrClosed.
func Closed(what string) error { return closedError(what) }

type closedError string

func (e closedError) Error() string        { return string(e) + " is closed" }
func (e closedError) Is(target error) bool { return target == os.ErrClosed }
