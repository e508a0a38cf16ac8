package argspec

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/recording"
)

// TestEveryArgumentNamed: every captured argument has names for its
// values, but setsockopt's and getsockopt's optname, whose names depend on
// the level (By, with names for each level it lists); and an enum names
// each value once.
func TestEveryArgumentNamed(t *testing.T) {
	for _, e := range Table {
		for _, a := range e.Args {
			if a.By != nil {
				if len(a.Names) != 0 || len(a.By.Names) == 0 || Lookup(e.Syscall, a.By.Index) == nil {
					t.Errorf("%s %s: names by argument %d, but names of its own or none by it", e.Syscall, a.Name, a.By.Index)
				}
				for by, names := range a.By.Names {
					if len(names) == 0 {
						t.Errorf("%s %s: no names at %s", e.Syscall, a.Name, Lookup(e.Syscall, a.By.Index).Value(nameArch, by))
					}
				}
				continue
			}
			if a.Name == "optname" {
				t.Errorf("%s %s: no names by level", e.Syscall, a.Name)
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
		// An enum's flags outside its mask are named with its value.
		{"socket", 1, "amd64", unix.SOCK_RAW | unix.SOCK_CLOEXEC, "SOCK_RAW|SOCK_CLOEXEC"},
		{"socket", 1, "arm64", unix.SOCK_STREAM | unix.SOCK_NONBLOCK | unix.SOCK_CLOEXEC, "SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC"},
		{"socket", 1, "amd64", unix.SOCK_DGRAM | 0x4000, "0x4002"},
		{"futex", 1, "amd64", futexWake | futexPrivateFlag, "FUTEX_WAKE|FUTEX_PRIVATE_FLAG"},
		// optname without its level: hex.
		{"setsockopt", 2, "amd64", unix.SO_REUSEADDR, "0x2"},
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

// TestValueBy: setsockopt's optname is named by its level; a level
// without names leaves it hex.
func TestValueBy(t *testing.T) {
	for _, c := range []struct {
		syscall  string
		v, level uint64
		arch     string
		want     string
	}{
		{"setsockopt", unix.SO_REUSEADDR, unix.SOL_SOCKET, "amd64", "SO_REUSEADDR"},
		{"setsockopt", unix.TCP_NODELAY, unix.IPPROTO_TCP, "amd64", "TCP_NODELAY"},
		{"setsockopt", unix.IP_TOS, unix.IPPROTO_IP, "arm64", "IP_TOS"},
		{"getsockopt", unix.IPV6_V6ONLY, unix.IPPROTO_IPV6, "amd64", "IPV6_V6ONLY"},
		{"getsockopt", unix.SO_ERROR, unix.SOL_SOCKET | 0xffffffff00000000, "amd64", "SO_ERROR"},
		{"setsockopt", 1, unix.SOL_NETLINK, "amd64", "0x1"},
		{"setsockopt", 0x7777, unix.SOL_SOCKET, "amd64", "0x7777"},
		{"setsockopt", unix.SO_REUSEADDR, unix.SOL_SOCKET, "x86", "0x2"},
	} {
		a := Lookup(c.syscall, 2)
		if got := a.ValueBy(abiArch(c.arch), c.v, c.level); got != c.want {
			t.Errorf("%s optname %#x at level %#x on %s = %q, want %q", c.syscall, c.v, c.level, c.arch, got, c.want)
		}
	}
}

// TestFree: the flags an enum's mask leaves free are named.
func TestFree(t *testing.T) {
	for _, c := range []struct {
		syscall string
		index   int
		want    string
	}{
		{"socket", 1, "SOCK_NONBLOCK|SOCK_CLOEXEC"},
		{"futex", 1, "FUTEX_PRIVATE_FLAG|FUTEX_CLOCK_REALTIME"},
		{"socket", 0, ""},
		{"mmap", 2, ""},
	} {
		if got := Lookup(c.syscall, c.index).Free("amd64"); got != c.want {
			t.Errorf("%s arg%d: Free = %q, want %q", c.syscall, c.index, got, c.want)
		}
	}
}

func abiArch(s string) abi.Arch { return abi.Arch(s) }
