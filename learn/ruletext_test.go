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
			"domain ∈ {AF_INET, AF_INET6}, type = SOCK_STREAM, protocol = IPPROTO_IP"},
		{"amd64", "socket", []Rule{socket(unix.AF_INET, unix.SOCK_STREAM), socket(unix.AF_INET6, unix.SOCK_DGRAM)},
			"domain = AF_INET, type = SOCK_STREAM, protocol = IPPROTO_IP || domain = AF_INET6, type = SOCK_DGRAM, protocol = IPPROTO_IP"},
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
