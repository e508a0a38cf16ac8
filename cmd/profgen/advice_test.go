package main

import (
	"errors"
	"fmt"
	"testing"

	"github.com/profgen/profgen/filter"
	"github.com/profgen/profgen/trace"
)

func TestBackendAdvice(t *testing.T) {
	unsup := fmt.Errorf("prepare: %w", &trace.Unsupported{Op: "load eBPF recorder", Feature: "not permitted to load BPF programs"})
	for _, tc := range []struct {
		err     error
		backend string
		base    bool
		want    string
	}{
		{unsup, "ebpf", false, "prepare: load eBPF recorder: not permitted to load BPF programs; try --backend log"},
		{unsup, "log", false, "prepare: load eBPF recorder: not permitted to load BPF programs; try --backend ebpf"},
		// With --base only the log backend can record: no advice.
		{unsup, "log", true, "prepare: load eBPF recorder: not permitted to load BPF programs"},
		{errors.New("command not found: x"), "ebpf", false, "command not found: x"},
	} {
		got := backendAdvice(tc.err, tc.backend, tc.base)
		if got.Error() != tc.want {
			t.Errorf("%s base=%v: %q, want %q", tc.backend, tc.base, got, tc.want)
		}
		if !errors.Is(got, tc.err) {
			t.Errorf("advice lost the error: %v", got)
		}
	}
}

func TestFilterAdvice(t *testing.T) {
	err := filterAdvice(fmt.Errorf("compile profile: %w", filter.ErrFilterTooLong))
	if want := "compile profile: filter too long; use fewer argument rules: try emit --args none or a lower --max-values"; err.Error() != want {
		t.Errorf("%q, want %q", err, want)
	}
	if err := filterAdvice(errors.New("other")); err.Error() != "other" {
		t.Errorf("advice added to %q", err)
	}
}
