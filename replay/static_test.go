package replay

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/filter"
	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/recording"
)

// TestStaticLearned: the profile learned from a recording allows every
// event of it, in the model and in the compiled filter alike, before and
// after a trip through OCI.
func TestStaticLearned(t *testing.T) {
	for _, opts := range []learn.Options{{}, {Runtime: learn.LoaderRunc}, {Args: learn.ArgsNone}, {MaxValues: 1}} {
		p, rec := learnFixture(t, opts)
		for name, prof := range map[string]*learn.Profile{"model": p, "oci": viaOCI(t, p)} {
			rep, err := Static(prof, rec)
			if err != nil {
				t.Fatalf("%+v %s: %v", opts, name, err)
			}
			if !rep.OK() || rep.Mode != "static" {
				t.Errorf("%+v %s: %+v", opts, name, rep)
			}
			// read and write once each, every shape of the others.
			var want uint64
			for _, s := range rec.Syscalls {
				want += uint64(max(1, len(s.Shapes)))
			}
			if rep.Checked != want {
				t.Errorf("%+v %s: checked %d events, want %d", opts, name, rep.Checked, want)
			}
		}
	}
}

// TestStaticViolations: events of a recording that a narrower profile does
// not allow are reported with their arguments (named in Call and the
// text), action and count.
func TestStaticViolations(t *testing.T) {
	_, rec := learnFixture(t, learn.Options{})
	narrow := rec.Lookup("socket")
	old := &recording.Recording{Version: 1, Arch: "amd64", ArgShapes: true, Inputs: 1, Syscalls: []recording.Syscall{
		{Name: "read", Number: 0, Count: 1, Seen: 1},
		{Name: "socket", Number: 41, Count: 1, Seen: 1, Args: narrow.Args, Shapes: narrow.Shapes[1:2]}, // AF_INET stream only
	}}
	p, err := learn.FromRecording(old, learn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Static(p, rec)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Violation{}
	for _, v := range rep.Violations {
		got[fmt.Sprintf("%s%x", v.Syscall, v.Args[:3])] = v
	}
	for _, want := range []Violation{
		{Syscall: "socket", Number: 41, Args: [6]uint64{unix.AF_UNIX, unix.SOCK_STREAM}, HasArgs: true, Call: "socket(AF_UNIX, SOCK_STREAM, IPPROTO_IP, ...)", Action: "errno(EPERM)", Count: 1},
		{Syscall: "socket", Number: 41, Args: [6]uint64{unix.AF_INET, unix.SOCK_DGRAM}, HasArgs: true, Call: "socket(AF_INET, SOCK_DGRAM, IPPROTO_IP, ...)", Action: "errno(EPERM)", Count: 1},
		{Syscall: "write", Number: 1, Action: "errno(EPERM)", Count: 50},
		{Syscall: "mmap", Number: 9, Args: [6]uint64{0, 0, unix.PROT_READ | unix.PROT_WRITE}, HasArgs: true, Call: "mmap(_, _, PROT_READ|PROT_WRITE, ...)", Action: "errno(EPERM)", Count: 4},
	} {
		v, ok := got[fmt.Sprintf("%s%x", want.Syscall, want.Args[:3])]
		if !ok || v != want {
			t.Errorf("violation %+v: got %+v (found %v)", want, v, ok)
		}
	}
	if _, ok := got[fmt.Sprintf("socket%x", []uint64{unix.AF_INET, unix.SOCK_STREAM, 0})]; ok {
		t.Error("allowed socket(AF_INET, SOCK_STREAM) reported")
	}
	var text strings.Builder
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	// The text names the arguments; the JSON keeps the numbers too.
	if !strings.Contains(text.String(), "FAIL: static replay") || !strings.Contains(text.String(), "socket(AF_UNIX, SOCK_STREAM, IPPROTO_IP, ...)") ||
		strings.Contains(text.String(), "[0x") {
		t.Errorf("report text:\n%s", text.String())
	}
}

// TestStaticNotes: a pinned syscall recorded without argument values is
// checked with zero arguments, and the report says so.
func TestStaticNotes(t *testing.T) {
	p, rec := learnFixture(t, learn.Options{})
	logRec := &recording.Recording{Version: 1, Arch: "amd64", Inputs: 1, Syscalls: []recording.Syscall{
		{Name: "mmap", Number: 9, Count: 3, Seen: 1},
		{Name: "read", Number: 0, Count: 3, Seen: 1},
	}}
	rep, err := Static(p, logRec)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Notes) != 1 || !strings.Contains(rep.Notes[0], "no argument values recorded for mmap,") || strings.Contains(rep.Notes[0], "read") {
		t.Errorf("notes %q", rep.Notes)
	}
	if !rep.OK() || rep.Checked != 2 {
		t.Errorf("%+v", rep)
	}
	rec.Arch = "x86"
	if _, err := Static(p, rec); err == nil || !strings.Contains(err.Error(), "recording is for x86") {
		t.Errorf("arch mismatch: %v", err)
	}
}

// crafted returns events around every rule of p: the values the rule
// allows, and each with one argument changed — unseen bits set in either
// half, the upper half sign-extended or otherwise dirty, the neighbours of
// the value, 0 and all ones.
func crafted(p *learn.Profile) map[string][][6]uint64 {
	out := map[string][][6]uint64{}
	for _, s := range p.Syscalls {
		evs := [][6]uint64{{}, {1, 2, 3, 4, 5, 6}, {^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}}
		for _, r := range s.Rules {
			var base [6]uint64
			for i, m := range r {
				base[i] = satisfying(m)
			}
			evs = append(evs, base)
			for i, m := range r {
				if m == nil {
					continue
				}
				v := base[i]
				variants := []uint64{0, ^uint64(0), v + 1, v - 1, v | 0xffffffff_00000000, v | 1<<32, v | 1<<63, v & 0xffffffff, v ^ 0xffffffff}
				for b := range 64 {
					variants = append(variants, v^(1<<b))
				}
				for _, x := range variants {
					e := base
					e[i] = x
					evs = append(evs, e)
				}
			}
		}
		out[s.Name] = evs
	}
	return out
}

// satisfying returns a value m matches (or 0 when m is nil).
func satisfying(m learn.Matcher) uint64 {
	switch m := m.(type) {
	case learn.Equal:
		return m.Value
	case learn.NotEqual:
		return m.Value + 1
	case learn.Less:
		return m.Value - 1
	case learn.LessEqual:
		return m.Value
	case learn.Greater:
		return m.Value + 1
	case learn.GreaterEqual:
		return m.Value
	case learn.MaskedEqual:
		return m.Value
	}
	return 0
}

// checkAll runs every event through c (which fails on any disagreement
// between the compiled filter and the model) and returns how many it ran.
func checkAll(t *testing.T, c *Checker, events map[string][][6]uint64) int {
	t.Helper()
	n := 0
	for name, evs := range events {
		for _, args := range evs {
			if _, err := c.Check(name, args); err != nil {
				t.Error(err)
			}
			n++
		}
	}
	return n
}

// TestRoundTrip is the round trip of issue 3: recording -> profile -> OCI
// -> ParseOCI -> libseccomp filter -> BPF VM gives the model's verdict for
// every recorded event and for crafted events around every rule.
func TestRoundTrip(t *testing.T) {
	for _, opts := range []learn.Options{{}, {Runtime: learn.LoaderRunc}, {DefaultAction: &learn.KillProcess}, {Args: learn.ArgsNone}} {
		p, rec := learnFixture(t, opts)
		back := viaOCI(t, p)
		c, err := NewChecker(back)
		if err != nil {
			t.Fatal(err)
		}
		events := crafted(p)
		for _, s := range rec.Syscalls {
			for _, ev := range s.Events() {
				if !ev.HasArgs {
					continue
				}
				args := ev.Args
				events[s.Name] = append(events[s.Name], args)
				// The original model must agree with the
				// compiled copy of the OCI document.
				got, err := c.Check(s.Name, args)
				if err != nil {
					t.Fatal(err)
				}
				if want := p.Verdict(s.Name, args); got != want || got != learn.Allow {
					t.Errorf("%s%#x: filter %s, model %s, want allow", s.Name, args, got, want)
				}
			}
		}
		for name, evs := range events {
			for _, args := range evs {
				if got, want := back.Verdict(name, args), p.Verdict(name, args); got != want {
					t.Errorf("%s%#x: %s after OCI, %s before", name, args, got, want)
				}
			}
		}
		rules := 0
		for _, s := range p.Syscalls {
			rules += len(s.Rules)
		}
		// Three fixed events per syscall, about 70 per matcher.
		if n := checkAll(t, c, events); n < 3*len(p.Syscalls)+50*rules {
			t.Errorf("only %d events checked for %d syscalls and %d rules", n, len(p.Syscalls), rules)
		}
	}
}

// verdictCase is one syscall the compiled profile must decide as want.
type verdictCase struct {
	name string
	args [6]uint64
	want learn.Action
}

func sx(v uint32) uint64 { return 0xffffffff_00000000 | uint64(v) }

// TestCompiledVerdicts: known answers for the profile learned from
// shapes.json, checked in the compiled filter and the model, in the spirit
// of gVisor's pkg/seccomp tests.
func TestCompiledVerdicts(t *testing.T) {
	p, _ := learnFixture(t, learn.Options{})
	c, err := NewChecker(viaOCI(t, p))
	if err != nil {
		t.Fatal(err)
	}
	allow, eperm, enosys := learn.Allow, learn.ErrnoEPERM, learn.ErrnoENOSYS
	for _, tc := range []verdictCase{
		{"socket", [6]uint64{unix.AF_INET, unix.SOCK_STREAM | unix.SOCK_CLOEXEC}, allow},
		{"socket", [6]uint64{sx(unix.AF_INET), sx(unix.SOCK_DGRAM), sx(0)}, allow},
		{"socket", [6]uint64{unix.AF_UNIX, unix.SOCK_STREAM | unix.SOCK_NONBLOCK}, allow},
		{"socket", [6]uint64{unix.AF_UNIX, unix.SOCK_DGRAM}, eperm},
		{"socket", [6]uint64{unix.AF_NETLINK, unix.SOCK_RAW}, eperm},
		{"socket", [6]uint64{unix.AF_PACKET, unix.SOCK_RAW, 0x300}, eperm},
		{"socket", [6]uint64{unix.AF_INET6, unix.SOCK_STREAM}, eperm},
		{"ioctl", [6]uint64{0, unix.TCGETS}, allow},
		{"ioctl", [6]uint64{0, sx(unix.TCGETS)}, allow},
		{"ioctl", [6]uint64{0, unix.TIOCSTI}, eperm},
		{"prctl", [6]uint64{unix.PR_SET_NAME}, allow},
		{"prctl", [6]uint64{unix.PR_SET_DUMPABLE}, eperm},
		{"mmap", [6]uint64{0, 4096, unix.PROT_READ | unix.PROT_WRITE, unix.MAP_PRIVATE | unix.MAP_ANONYMOUS, ^uint64(0)}, allow},
		{"mmap", [6]uint64{0, 4096, unix.PROT_READ | unix.PROT_EXEC}, allow},
		{"mmap", [6]uint64{0, 4096, unix.PROT_WRITE | unix.PROT_EXEC}, eperm},
		{"mmap", [6]uint64{0, 4096, sx(unix.PROT_WRITE | unix.PROT_EXEC)}, eperm},
		{"mmap", [6]uint64{0, 4096, unix.PROT_READ | unix.PROT_WRITE | unix.PROT_EXEC}, eperm},
		{"mprotect", [6]uint64{0, 4096, unix.PROT_READ | unix.PROT_WRITE | unix.PROT_EXEC}, allow},
		{"clone", [6]uint64{unix.CLONE_VM | unix.CLONE_THREAD | unix.CLONE_SIGHAND}, allow},
		{"clone", [6]uint64{unix.CLONE_NEWUSER}, eperm},
		{"clone", [6]uint64{1 << 40}, eperm},
		{"openat", [6]uint64{sx(0xffffff9c), 0, unix.O_RDONLY | unix.O_CLOEXEC}, allow},
		{"openat", [6]uint64{sx(0xffffff9c), 0, unix.O_RDWR}, eperm},
		{"futex", [6]uint64{0, 0x80}, allow},
		{"futex", [6]uint64{0, 0x181}, allow},
		{"futex", [6]uint64{0, 3}, eperm},
		{"setsockopt", [6]uint64{3, unix.SOL_SOCKET, unix.SO_REUSEADDR}, allow},
		{"setsockopt", [6]uint64{3, unix.SOL_SOCKET, unix.SO_DEBUG}, eperm},
		{"read", [6]uint64{^uint64(0)}, allow},
		{"clone3", [6]uint64{}, enosys},
		{"faccessat2", [6]uint64{}, enosys},
		{"getuid", [6]uint64{}, eperm},
		{"ptrace", [6]uint64{}, eperm},
		{"bpf", [6]uint64{}, eperm},
	} {
		got, err := c.Check(tc.name, tc.args)
		if err != nil {
			t.Error(err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s%#x: %s, want %s", tc.name, tc.args, got, tc.want)
		}
	}
}

// TestForeignABIs: calls through another ABI than the profile's are killed
// (i386 compat, aarch64, x32 numbers), nr -1 (how a tracer skips a call)
// gets the default action, and CompileOptions.BadArch changes the verdict
// for foreign architectures.
func TestForeignABIs(t *testing.T) {
	p, _ := learnFixture(t, learn.Options{})
	c, err := NewChecker(p)
	if err != nil {
		t.Fatal(err)
	}
	read, _ := abi.SyscallNumber("amd64", "read")
	readX86, _ := abi.SyscallNumber("x86", "read")
	const x32Bit = 0x40000000
	for _, tc := range []struct {
		d    filter.SeccompData
		want learn.Action
	}{
		{filter.SeccompData{Nr: int32(read), Arch: unix.AUDIT_ARCH_X86_64}, learn.Allow},
		{filter.SeccompData{Nr: int32(readX86), Arch: unix.AUDIT_ARCH_I386}, learn.KillProcess},
		{filter.SeccompData{Nr: int32(read), Arch: unix.AUDIT_ARCH_I386}, learn.KillProcess},
		{filter.SeccompData{Nr: int32(read), Arch: unix.AUDIT_ARCH_AARCH64}, learn.KillProcess},
		{filter.SeccompData{Nr: int32(read) | x32Bit, Arch: unix.AUDIT_ARCH_X86_64}, learn.KillProcess},
		{filter.SeccompData{Nr: 41 | x32Bit, Arch: unix.AUDIT_ARCH_X86_64, Args: [6]uint64{unix.AF_INET, unix.SOCK_STREAM}}, learn.KillProcess},
		{filter.SeccompData{Nr: -1, Arch: unix.AUDIT_ARCH_X86_64}, learn.ErrnoEPERM},
	} {
		got, err := c.VM().Verdict(tc.d)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("nr %#x arch %#x: %s, want %s", uint32(tc.d.Nr), tc.d.Arch, got, tc.want)
		}
	}
	prog, err := filter.Compile(p, filter.CompileOptions{BadArch: &learn.ErrnoENOSYS})
	if err != nil {
		t.Fatal(err)
	}
	vm, err := filter.NewVM(prog)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := vm.Verdict(filter.SeccompData{Nr: int32(readX86), Arch: unix.AUDIT_ARCH_I386}); got != learn.ErrnoENOSYS {
		t.Errorf("i386 read with BadArch ENOSYS: %s", got)
	}
}

// Differential testing: random profiles with every matcher type, and
// random events near their rules; the compiled filter must agree with the
// model on every one.

var diffSyscalls = []string{
	"read", "write", "openat", "close", "mmap", "mprotect", "socket", "connect", "ioctl", "prctl",
	"clone", "futex", "kill", "setsockopt", "fcntl", "madvise", "personality", "bpf", "keyctl", "unshare",
}

var interesting = []uint64{0, 1, 2, 3, 0x7f, 0x80, 0xff, 0x100, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
	1 << 32, 1<<32 | 1, 0xffffffff_00000000, 0xffffffff_80000000, 0xffffffff_ffffffff, 0x7fffffff_ffffffff, 0x80000000_00000000}

func randValue(rng *rand.Rand) uint64 {
	switch rng.IntN(3) {
	case 0:
		return interesting[rng.IntN(len(interesting))]
	case 1:
		return uint64(rng.IntN(64))
	}
	return rng.Uint64()
}

// Matcher kinds randMatcher draws from.
const (
	mEqual = iota
	mNotEqual
	mLess
	mLessEqual
	mGreater
	mGreaterEqual
	mMaskedEqual
)

func randMatcher(rng *rand.Rand, kinds []int) learn.Matcher {
	v := randValue(rng)
	switch kinds[rng.IntN(len(kinds))] {
	case 0:
		return learn.Equal{Value: v}
	case 1:
		return learn.NotEqual{Value: v}
	case 2:
		return learn.Less{Value: v}
	case 3:
		return learn.LessEqual{Value: v}
	case 4:
		return learn.Greater{Value: v}
	case 5:
		return learn.GreaterEqual{Value: v}
	}
	mask := []uint64{0xffffffff, 0xfff7f7ff, 0xffffffff_ffffffff, 0xff, 0xffffffff_00000000, randValue(rng)}[rng.IntN(6)]
	if rng.IntN(2) == 0 {
		return learn.MaskedEqual{Mask: mask, Value: 0}
	}
	return learn.MaskedEqual{Mask: mask, Value: v & mask}
}

var diffActions = []learn.Action{learn.Allow, learn.Allow, learn.Allow, learn.Log, learn.ErrnoEPERM, learn.ErrnoENOSYS,
	learn.Errno(unix.EACCES), {Kind: learn.ActTrap}, {Kind: learn.ActKillThread}, learn.KillProcess}

func randProfile(rng *rand.Rand, kinds []int) *learn.Profile {
	p := &learn.Profile{Arch: "amd64", DefaultAction: []learn.Action{learn.ErrnoEPERM, learn.KillProcess, learn.Log, learn.Allow}[rng.IntN(4)], Inputs: 1}
	for _, name := range diffSyscalls {
		if rng.IntN(3) == 0 {
			continue
		}
		s := learn.Syscall{Name: name, Action: diffActions[rng.IntN(len(diffActions))]}
		if rng.IntN(3) != 0 {
			for range 1 + rng.IntN(4) {
				var r learn.Rule
				for range 1 + rng.IntN(3) {
					r[rng.IntN(6)] = randMatcher(rng, kinds)
				}
				s.Rules = append(s.Rules, r)
			}
		}
		if err := p.Add(s); err != nil {
			panic(err)
		}
	}
	return p
}

// differential checks n random profiles whose rules use kinds of matchers
// and returns the first disagreement, or nil.
func differential(t *testing.T, seed uint64, n int, kinds []int) error {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	for i := range n {
		p := randProfile(rng, kinds)
		if i%3 == 0 {
			p = viaOCI(t, p)
		}
		c, err := NewChecker(p)
		if err != nil {
			t.Fatalf("profile %d: %v", i, err)
		}
		events := crafted(p)
		for _, name := range diffSyscalls {
			for range 20 {
				var args [6]uint64
				for k := range args {
					args[k] = randValue(rng)
				}
				events[name] = append(events[name], args)
			}
		}
		for name, evs := range events {
			for _, args := range evs {
				if _, err := c.Check(name, args); err != nil {
					var b strings.Builder
					for _, s := range p.Syscalls {
						fmt.Fprintf(&b, "  %s %s %v\n", s.Name, s.Action, s.Rules)
					}
					return fmt.Errorf("profile %d (default %s):\n%s%w", i, p.DefaultAction, b.String(), err)
				}
			}
		}
	}
	return nil
}

// TestDifferential: VM == model for random profiles made of the matchers
// profgen learns (equal, masked-equal) and random events, directly and
// after a trip through OCI.
func TestDifferential(t *testing.T) {
	if err := differential(t, 17, 300, []int{mEqual, mMaskedEqual}); err != nil {
		t.Fatal(err)
	}
}

// TestDifferentialDense: profiles shaped like learned ones — up to 60
// rules per syscall over three arguments, 32-bit masked enums, 64-bit
// equalities and flag masks — agree with the model on events whose upper
// halves are zero, small, or sign-extended.
func TestDifferentialDense(t *testing.T) {
	rng := rand.New(rand.NewPCG(99, 1))
	for i := range 60 {
		p := &learn.Profile{Arch: "amd64", DefaultAction: learn.ErrnoEPERM}
		for _, name := range []string{"socket", "ioctl", "mmap", "setsockopt"} {
			var rules []learn.Rule
			for range 1 + rng.IntN(60) {
				var r learn.Rule
				for k := range 3 {
					if rng.IntN(3) == 0 {
						continue
					}
					v := uint64(rng.IntN(6))
					switch rng.IntN(3) {
					case 0:
						r[k] = learn.MaskedEqual{Mask: 0xffffffff, Value: v}
					case 1:
						r[k] = learn.Equal{Value: v | uint64(rng.IntN(2))<<32}
					default:
						r[k] = learn.MaskedEqual{Mask: 0xffffffff &^ uint64(rng.IntN(16)), Value: 0}
					}
				}
				rules = append(rules, r)
			}
			if err := p.Add(learn.Syscall{Name: name, Action: learn.Allow, Rules: rules}); err != nil {
				t.Fatal(err)
			}
		}
		c, err := NewChecker(p)
		if err != nil {
			t.Fatal(err)
		}
		events := crafted(p)
		for name := range events {
			for range 300 {
				var a [6]uint64
				for k := range 3 {
					a[k] = uint64(rng.IntN(8)) | uint64(rng.IntN(3))<<32
					if rng.IntN(4) == 0 {
						a[k] |= 0xffffffff_00000000
					}
				}
				events[name] = append(events[name], a)
			}
		}
		for name, evs := range events {
			for _, args := range evs {
				if _, err := c.Check(name, args); err != nil {
					t.Fatalf("profile %d: %v", i, err)
				}
			}
		}
	}
}
