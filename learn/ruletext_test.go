package learn

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/abi"
)

func TestRulesText(t *testing.T) {
	const u32 = 0xffffffff
	enum := func(i int, v uint64) Rule {
		var r Rule
		r[i] = MaskedEqual{Mask: u32, Value: v}
		return r
	}
	socket := func(domain, typ uint64) Rule {
		return Rule{MaskedEqual{u32, domain}, MaskedEqual{u32 &^ (unix.SOCK_NONBLOCK | unix.SOCK_CLOEXEC), typ}, MaskedEqual{u32, 0}}
	}
	opt := func(level, name uint64) Rule {
		return Rule{nil, MaskedEqual{u32, level}, MaskedEqual{u32, name}}
	}
	allowed := func(i int, bits uint64) Rule {
		var r Rule
		r[i] = MaskedEqual{Mask: u32 &^ bits, Value: 0}
		return r
	}
	for _, c := range []struct {
		arch    abi.Arch
		syscall string
		rules   []Rule
		want    string
	}{
		{"amd64", "ioctl", []Rule{enum(1, unix.TIOCGWINSZ), enum(1, unix.TCGETS)}, "request ∈ {TCGETS, TIOCGWINSZ}"},
		{"amd64", "socket", []Rule{socket(unix.AF_INET, unix.SOCK_STREAM), socket(unix.AF_INET6, unix.SOCK_STREAM)},
			"domain ∈ {AF_INET, AF_INET6}, type & ~(SOCK_NONBLOCK|SOCK_CLOEXEC) = SOCK_STREAM, protocol = IPPROTO_IP"},
		{"amd64", "socket", []Rule{socket(unix.AF_INET, unix.SOCK_STREAM), socket(unix.AF_INET6, unix.SOCK_DGRAM)},
			"domain = AF_INET, type & ~(SOCK_NONBLOCK|SOCK_CLOEXEC) = SOCK_STREAM, protocol = IPPROTO_IP || domain = AF_INET6, type & ~(SOCK_NONBLOCK|SOCK_CLOEXEC) = SOCK_DGRAM, protocol = IPPROTO_IP"},
		// A type compared on all its bits is exact: no flag free.
		{"amd64", "socket", []Rule{{nil, MaskedEqual{u32, unix.SOCK_STREAM | unix.SOCK_CLOEXEC}}},
			"type & 0xffffffff == SOCK_STREAM|SOCK_CLOEXEC"},
		{"amd64", "futex", []Rule{{nil, MaskedEqual{u32 &^ 0x180, 0}}, {nil, MaskedEqual{u32 &^ 0x180, 1}}},
			"op & ~(FUTEX_PRIVATE_FLAG|FUTEX_CLOCK_REALTIME) ∈ {FUTEX_WAIT, FUTEX_WAKE}"},
		// optname is named by the level the rule pins, hex where it
		// pins none.
		{"amd64", "setsockopt", []Rule{opt(unix.SOL_SOCKET, unix.SO_REUSEADDR), opt(unix.SOL_SOCKET, unix.SO_KEEPALIVE), opt(unix.IPPROTO_TCP, unix.TCP_NODELAY)},
			"level = SOL_SOCKET, optname ∈ {SO_REUSEADDR, SO_KEEPALIVE} || level = IPPROTO_TCP, optname = TCP_NODELAY"},
		{"amd64", "setsockopt", []Rule{opt(unix.SOL_SOCKET, 1), opt(unix.IPPROTO_TCP, 1)},
			"level = SOL_SOCKET, optname = SO_DEBUG || level = IPPROTO_TCP, optname = TCP_NODELAY"},
		{"amd64", "getsockopt", []Rule{enum(2, unix.SO_ERROR)}, "optname = 0x4"},
		{"amd64", "getsockopt", []Rule{{nil, Equal{unix.SOL_SOCKET}, Equal{unix.SO_ERROR}}}, "level == SOL_SOCKET, optname == SO_ERROR"},
		// An Equal reads all 64 bits: a name would hide the high ones.
		{"amd64", "ioctl", []Rule{{nil, Equal{0xffffffff00005421}}}, "request == 0xffffffff00005421"},
		{"amd64", "ioctl", []Rule{{nil, NotEqual{0x5421}}}, "request != FIONBIO"},
		{"amd64", "openat", []Rule{{nil, nil, MaskedEqual{1 << 32, 0}}}, "flags & 0x100000000 == 0"},
		{"amd64", "openat", []Rule{{nil, nil, MaskedEqual{unix.O_ACCMODE, unix.O_WRONLY}}}, "flags & 0x3 == O_WRONLY"},
		{"amd64", "mmap", []Rule{allowed(2, unix.PROT_READ|unix.PROT_WRITE)}, "prot ⊆ PROT_READ|PROT_WRITE"},
		{"amd64", "mmap", []Rule{allowed(2, 0)}, "prot ⊆ PROT_NONE"},
		{"amd64", "openat", []Rule{allowed(2, unix.O_CLOEXEC|0x10000)}, "flags ⊆ O_DIRECTORY|O_CLOEXEC"},
		{"arm64", "openat", []Rule{allowed(2, unix.O_CLOEXEC|0x4000)}, "flags ⊆ O_DIRECTORY|O_CLOEXEC"},
		// What argspec does not describe stays as Rule.String has it.
		{"amd64", "read", []Rule{{Equal{3}}}, "arg0 == 0x3"},
		{"amd64", "ioctl", []Rule{{Equal{3}, Equal{0x5421}}}, "arg0 == 0x3, request == FIONBIO"},
		{"amd64", "ioctl", []Rule{{nil, MaskedEqual{0xff, 0x21}}}, "request & 0xff == 0x21"},
		{"amd64", "ioctl", nil, "any"},
		// No names for another architecture.
		{"x86", "ioctl", []Rule{enum(1, unix.TCGETS)}, "request = 0x5401"},
	} {
		if got := RulesText(c.arch, c.syscall, c.rules); got != c.want {
			t.Errorf("RulesText(%s, %s, %v) =\n%s\nwant\n%s", c.arch, c.syscall, c.rules, got, c.want)
		}
	}
}

func TestCallText(t *testing.T) {
	for _, c := range []struct {
		arch    abi.Arch
		syscall string
		args    [6]uint64
		want    string
	}{
		{"amd64", "socket", [6]uint64{unix.AF_NETLINK, unix.SOCK_RAW | unix.SOCK_CLOEXEC, 0}, "socket(AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, IPPROTO_IP, ...)"},
		{"amd64", "setsockopt", [6]uint64{3, unix.SOL_SOCKET, unix.SO_REUSEADDR}, "setsockopt(_, SOL_SOCKET, SO_REUSEADDR, ...)"},
		{"amd64", "setsockopt", [6]uint64{3, unix.SOL_NETLINK, 1}, "setsockopt(_, SOL_NETLINK, 0x1, ...)"},
		{"amd64", "openat", [6]uint64{0, 0, unix.O_RDONLY | unix.O_CLOEXEC | unix.O_DIRECTORY}, "openat(_, _, O_DIRECTORY|O_CLOEXEC, ...)"},
		{"amd64", "ioctl", [6]uint64{1, 0xdead}, "ioctl(_, 0xdead, ...)"},
		{"amd64", "read", [6]uint64{}, "read(...)"},
	} {
		if got := CallText(c.arch, c.syscall, c.args); got != c.want {
			t.Errorf("CallText(%s, %s, %#x) = %q, want %q", c.arch, c.syscall, c.args, got, c.want)
		}
	}
}
