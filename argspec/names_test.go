package argspec

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/recording"
)

// TestEveryArgumentNamed: every captured argument has names for its
// values, but setsockopt's and getsockopt's optname, whose names depend on
// the level; and an enum names each value once.
func TestEveryArgumentNamed(t *testing.T) {
	for _, e := range Table {
		for _, a := range e.Args {
			if a.Name == "optname" {
				continue
			}
			if len(a.Names) == 0 {
				t.Errorf("%s %s: no names for its values", e.Syscall, a.Name)
			}
			if a.Kind != recording.KindEnum {
				continue
			}
			values := map[uint64]string{}
			for _, n := range a.Names {
				if other, ok := values[n.Value]; ok {
					t.Errorf("%s %s: %#x is both %s and %s", e.Syscall, a.Name, n.Value, other, n.Name)
				}
				values[n.Value] = n.Name
			}
		}
	}
}

func TestValue(t *testing.T) {
	for _, c := range []struct {
		syscall string
		index   int
		arch    string
		v       uint64
		want    string
	}{
		{"ioctl", 1, "amd64", unix.TIOCGWINSZ, "TIOCGWINSZ"},
		{"ioctl", 1, "amd64", 0x5401 | 0xffffffff00000000, "TCGETS"}, // sign-extended: compared under the mask
		{"ioctl", 1, "amd64", 0xdead, "0xdead"},
		{"socket", 0, "arm64", unix.AF_INET6, "AF_INET6"},
		{"mmap", 2, "amd64", unix.PROT_READ | unix.PROT_WRITE, "PROT_READ|PROT_WRITE"},
		{"mmap", 2, "amd64", 0, "PROT_NONE"},
		{"mmap", 2, "amd64", unix.PROT_READ | 0x100, "PROT_READ|0x100"},
		{"openat", 2, "amd64", unix.O_CLOEXEC | 0x10000, "O_DIRECTORY|O_CLOEXEC"},
		{"openat", 2, "arm64", unix.O_CLOEXEC | 0x4000, "O_DIRECTORY|O_CLOEXEC"},
		{"openat", 2, "arm64", 0x10000, "O_DIRECT"},
		{"openat", 2, "amd64", unix.O_SYNC | unix.O_RDWR, "O_RDWR|O_SYNC"},
		{"openat", 2, "amd64", 0, "O_RDONLY"},
		{"futex", 1, "amd64", 9, "FUTEX_WAIT_BITSET"},
		{"kill", 1, "amd64", 9, "SIGKILL"},
		{"clone", 0, "amd64", unix.CLONE_VM | unix.CLONE_THREAD | 0x11, "CLONE_VM|CLONE_THREAD|0x11"},
		// No names for an architecture the table was not checked for.
		{"ioctl", 1, "x86", unix.TCGETS, "0x5401"},
		{"mmap", 2, "riscv64", unix.PROT_READ, "0x1"},
	} {
		a := Lookup(c.syscall, c.index)
		if got := a.Value(abiArch(c.arch), c.v); got != c.want {
			t.Errorf("%s arg%d on %s: Value(%#x) = %q, want %q", c.syscall, c.index, c.arch, c.v, got, c.want)
		}
	}
}

func abiArch(s string) abi.Arch { return abi.Arch(s) }
