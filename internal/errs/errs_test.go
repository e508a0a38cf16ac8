package errs

import (
	"errors"
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

func TestUnsupported(t *testing.T) {
	err := fmt.Errorf("record: %w", &Unsupported{Op: "load x", Feature: "not permitted", Fix: "run as root", Err: unix.EPERM})
	if !errors.Is(err, ErrNotSupported) || !errors.Is(err, unix.EPERM) {
		t.Errorf("%v: does not match ErrNotSupported and EPERM", err)
	}
	if got, want := err.Error(), "record: load x: not permitted; run as root: operation not permitted"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
	var u *Unsupported
	if !errors.As(err, &u) || u.Fix != "run as root" {
		t.Errorf("errors.As: %+v", u)
	}
	if got := (&Unsupported{Feature: "no BTF"}).Error(); got != "no BTF" {
		t.Errorf("bare message %q", got)
	}
	if errors.Is(fmt.Errorf("x: %w", unix.EPERM), ErrNotSupported) {
		t.Error("a plain error matches ErrNotSupported")
	}
}

func TestClosed(t *testing.T) {
	err := fmt.Errorf("collect: %w", Closed("eBPF backend"))
	if !errors.Is(err, os.ErrClosed) {
		t.Errorf("%v does not match os.ErrClosed", err)
	}
	if got := err.Error(); got != "collect: eBPF backend is closed" {
		t.Errorf("message %q", got)
	}
	if errors.Is(err, ErrNotSupported) {
		t.Error("closed matches ErrNotSupported")
	}
}
