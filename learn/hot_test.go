package learn_test

import (
	"math"
	"slices"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/recording"
)

// TestCallsFromRecording: a learned profile carries each recorded
// syscall's call count, and entries added for other reasons have none.
func TestCallsFromRecording(t *testing.T) {
	rec := &recording.Recording{Arch: "amd64", Inputs: 1, Syscalls: []recording.Syscall{
		{Name: "read", Number: unix.SYS_READ, Count: 1000, Seen: 1},
		{Name: "write", Number: unix.SYS_WRITE, Count: 7, Seen: 1},
	}}
	p, err := learn.FromRecording(rec, learn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := p.Counts()
	if got["read"] != 1000 || got["write"] != 7 || len(got) != 2 {
		t.Errorf("counts %v, want read 1000, write 7 and nothing else", got)
	}
	if s := p.Lookup("rt_sigreturn"); s == nil || s.Calls != 0 {
		t.Errorf("baseline rt_sigreturn: %+v, want an entry with no calls", s)
	}
}

// TestCallsMerge: calls add when profiles merge, and stop at the largest
// count rather than wrap.
func TestCallsMerge(t *testing.T) {
	a := profile(learn.Syscall{Name: "read", Action: allow, Seen: 1, Calls: 5},
		learn.Syscall{Name: "write", Action: allow, Seen: 1, Calls: math.MaxUint64 - 1})
	b := profile(learn.Syscall{Name: "read", Action: allow, Seen: 1, Calls: 6},
		learn.Syscall{Name: "write", Action: allow, Seen: 1, Calls: 2})
	m, err := learn.Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Lookup("read").Calls; got != 11 {
		t.Errorf("read: %d calls, want 11", got)
	}
	if got := m.Lookup("write").Calls; got != math.MaxUint64 {
		t.Errorf("write: %d calls, want the largest count", got)
	}
}

// TestHotOrder: argument-checked syscalls first, most called first, then
// those allowed by name, most called first, ties by name; entries with the
// default action are left out.
func TestHotOrder(t *testing.T) {
	p := profile(
		learn.Syscall{Name: "read", Action: allow},
		learn.Syscall{Name: "write", Action: allow},
		learn.Syscall{Name: "close", Action: allow},
		learn.Syscall{Name: "futex", Action: allow, Rules: []learn.Rule{enumRule(1, 1)}},
		learn.Syscall{Name: "fcntl", Action: allow, Rules: []learn.Rule{enumRule(1, 1)}},
		learn.Syscall{Name: "ioctl", Action: allow, Rules: []learn.Rule{enumRule(1, 1)}},
		learn.Syscall{Name: "ptrace", Action: learn.ErrnoEPERM},
	)
	counts := map[string]uint64{"read": 50, "write": 50, "futex": 3, "fcntl": 9, "ptrace": 1000}
	want := []string{"fcntl", "futex", "ioctl", "read", "write", "close"}
	if got := learn.HotOrder(p, counts); !slices.Equal(got, want) {
		t.Errorf("HotOrder %v, want %v", got, want)
	}
	want = []string{"fcntl", "futex", "ioctl", "close", "read", "write"}
	if got := learn.HotOrder(p, nil); !slices.Equal(got, want) {
		t.Errorf("HotOrder without counts %v, want %v", got, want)
	}
	for i, want := range map[int]uint8{0: 255, 1: 254, 254: 1, 255: 0, 1000: 0, -1: 0} {
		if got := learn.HotPriority(i); got != want {
			t.Errorf("HotPriority(%d) = %d, want %d", i, got, want)
		}
	}
}
