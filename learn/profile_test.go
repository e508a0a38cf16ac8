package learn_test

import (
	"math"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/recording"
)

func enumRule(idx int, v uint64) learn.Rule {
	var r learn.Rule
	r[idx] = learn.MaskedEqual{Mask: 0xffffffff, Value: v}
	return r
}

func profile(syscalls ...learn.Syscall) *learn.Profile {
	p := &learn.Profile{Arch: "amd64", DefaultAction: learn.ErrnoEPERM, Inputs: 1}
	for _, s := range syscalls {
		if err := p.Add(s); err != nil {
			panic(err)
		}
	}
	return p
}

// TestMergeProfiles: the union allows what any input allows; an
// unconditional entry absorbs rules; Seen and Inputs add; inputs are not
// modified.
func TestMergeProfiles(t *testing.T) {
	a := profile(
		learn.Syscall{Name: "socket", Action: allow, Seen: 1, Rules: []learn.Rule{enumRule(0, unix.AF_INET)}},
		learn.Syscall{Name: "ioctl", Action: allow, Seen: 1, Rules: []learn.Rule{enumRule(1, unix.TCGETS)}},
		learn.Syscall{Name: "read", Action: allow, Seen: 1},
		learn.Syscall{Name: "clone3", Action: learn.ErrnoENOSYS, Origin: learn.OriginStub},
	)
	a.Notes = []string{"note a", "shared"}
	b := profile(
		learn.Syscall{Name: "socket", Action: allow, Seen: 1, Rules: []learn.Rule{enumRule(0, unix.AF_UNIX), enumRule(0, unix.AF_INET)}},
		learn.Syscall{Name: "ioctl", Action: allow, Seen: 1},
		learn.Syscall{Name: "clone3", Action: allow, Seen: 1, Origin: learn.OriginRecorded},
		learn.Syscall{Name: "write", Action: allow, Seen: 1},
	)
	b.Notes = []string{"shared", "note b"}
	aText, bText := a.Copy(), b.Copy()

	m, err := learn.Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if m.Inputs != 2 {
		t.Errorf("inputs %d, want 2", m.Inputs)
	}
	if want := []string{"note a", "shared", "note b"}; !slices.Equal(m.Notes, want) {
		t.Errorf("notes %q, want %q", m.Notes, want)
	}
	if got, want := m.Allowed(), []string{"clone3", "ioctl", "read", "socket", "write"}; !slices.Equal(got, want) {
		t.Errorf("allowed %v, want %v", got, want)
	}
	s := m.Lookup("socket")
	if len(s.Rules) != 2 || s.Seen != 2 {
		t.Errorf("socket: rules %v seen %d, want 2 rules (AF_INET once) seen 2", s.Rules, s.Seen)
	}
	for _, c := range []call{
		{"socket", [6]uint64{unix.AF_INET}, allow},
		{"socket", [6]uint64{unix.AF_UNIX}, allow},
		{"socket", [6]uint64{unix.AF_INET6}, eperm},
		{"ioctl", [6]uint64{1, unix.TIOCGWINSZ}, allow}, // unconditional in b
		{"clone3", [6]uint64{}, allow},                  // allowed in b beats a's stub
		{"getuid", [6]uint64{}, eperm},
	} {
		if got := m.Verdict(c.name, c.args); got != c.want {
			t.Errorf("merged %v: %s, want %s", c, got, c.want)
		}
	}
	if !equalProfiles(a, aText) || !equalProfiles(b, bText) {
		t.Error("Merge modified its inputs")
	}

	// Order does not change what is allowed.
	m2, err := learn.Merge(b, a)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.Allowed(), m2.Allowed()) {
		t.Errorf("Merge(a, b) allows %v, Merge(b, a) %v", m.Allowed(), m2.Allowed())
	}
	for _, s := range m.Syscalls {
		if !slices.Equal(ruleTexts(s.Rules), ruleTexts(m2.Lookup(s.Name).Rules)) {
			t.Errorf("%s: Merge(a, b) rules %v, Merge(b, a) %v", s.Name, s.Rules, m2.Lookup(s.Name).Rules)
		}
	}
}

func TestMergeProfilesErrors(t *testing.T) {
	if _, err := learn.Merge(); err == nil {
		t.Error("Merge() succeeded")
	}
	x86 := profile()
	x86.Arch = "x86"
	if _, err := learn.Merge(profile(), x86); err == nil || !strings.Contains(err.Error(), "x86") {
		t.Errorf("merging amd64 and x86: %v, want an error naming x86", err)
	}
	kill := profile(learn.Syscall{Name: "ptrace", Action: learn.KillProcess})
	perm := profile(learn.Syscall{Name: "ptrace", Action: allow})
	if _, err := learn.Merge(kill, perm); err == nil || !strings.Contains(err.Error(), "ptrace") {
		t.Errorf("merging conflicting actions: %v, want an error naming ptrace", err)
	}
}

// TestMergeProfilesSaturates: Inputs and Seen stop at the largest int
// instead of wrapping negative.
func TestMergeProfilesSaturates(t *testing.T) {
	a := profile(learn.Syscall{Name: "read", Action: allow, Seen: math.MaxInt})
	a.Inputs = math.MaxInt
	b := profile(learn.Syscall{Name: "read", Action: allow, Seen: 1})
	m, err := learn.Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if m.Inputs != math.MaxInt || m.Lookup("read").Seen != math.MaxInt {
		t.Errorf("inputs %d seen %d, want %d for both", m.Inputs, m.Lookup("read").Seen, math.MaxInt)
	}
}

// TestCopy: a copy shares nothing that Add or editing can change.
func TestCopy(t *testing.T) {
	p := profile(learn.Syscall{Name: "socket", Action: allow, Rules: []learn.Rule{enumRule(0, 2)}, Notes: []string{"n"}})
	p.Notes = []string{"profile note"}
	c := p.Copy()
	c.Syscalls[0].Rules[0][0] = learn.Equal{Value: 10}
	c.Syscalls[0].Notes[0] = "changed"
	c.Notes[0] = "changed"
	if err := c.Add(learn.Syscall{Name: "read", Action: allow}); err != nil {
		t.Fatal(err)
	}
	if got := p.Syscalls[0].Rules[0].String(); got != "arg0 & 0xffffffff == 0x2" {
		t.Errorf("original rule changed to %s", got)
	}
	if p.Syscalls[0].Notes[0] != "n" || p.Notes[0] != "profile note" || len(p.Syscalls) != 1 {
		t.Error("original notes or syscalls changed through the copy")
	}
}

// TestAdd covers the merge of one entry into a profile.
func TestAdd(t *testing.T) {
	p := profile(learn.Syscall{Name: "socket", Action: allow, Rules: []learn.Rule{enumRule(0, 2)}, Seen: 1, Origin: learn.OriginRecorded})
	// Duplicate rules collapse.
	if err := p.Add(learn.Syscall{Name: "socket", Action: allow, Rules: []learn.Rule{enumRule(0, 2)}, Seen: 1}); err != nil {
		t.Fatal(err)
	}
	if s := p.Lookup("socket"); len(s.Rules) != 1 || s.Seen != 2 {
		t.Errorf("socket: %v seen %d, want one rule seen 2", s.Rules, s.Seen)
	}
	// A stub never replaces an allowed entry.
	if err := p.Add(learn.Syscall{Name: "socket", Action: learn.ErrnoENOSYS, Origin: learn.OriginStub}); err != nil {
		t.Fatal(err)
	}
	if s := p.Lookup("socket"); s.Action != allow {
		t.Errorf("stub replaced socket: %s", s.Action)
	}
	// An unconditional entry makes the result unconditional; the
	// recorded origin is kept.
	if err := p.Add(learn.Syscall{Name: "socket", Action: allow, Origin: learn.OriginRuntime, Reason: "runc"}); err != nil {
		t.Fatal(err)
	}
	if s := p.Lookup("socket"); !s.Unconditional() || s.Origin != learn.OriginRecorded {
		t.Errorf("socket: rules %v origin %s, want unconditional, recorded", s.Rules, s.Origin)
	}
	if err := p.Add(learn.Syscall{Name: "socket", Action: learn.KillProcess}); err == nil {
		t.Error("conflicting action accepted")
	}
	if !slices.IsSortedFunc(p.Syscalls, func(a, b learn.Syscall) int { return strings.Compare(a.Name, b.Name) }) {
		t.Error("syscalls not sorted")
	}
}

// TestTooManyCombinations: when the combinations of two enum arguments
// need more rules than fit, the one with more distinct values is unpinned
// and a note says so.
func TestTooManyCombinations(t *testing.T) {
	rec := &recording.Recording{Version: 1, Arch: "amd64", ArgShapes: true, Inputs: 1}
	s := recording.Syscall{Name: "setsockopt", Number: 54, Count: 90, Seen: 1, Args: []recording.Arg{
		{Index: 1, Name: "level", Kind: recording.KindEnum, Mask: 0xffffffff},
		{Index: 2, Name: "optname", Kind: recording.KindEnum, Mask: 0xffffffff},
	}}
	for level := range 9 {
		for opt := range 10 {
			s.Shapes = append(s.Shapes, recording.Shape{Values: []recording.Hex{recording.Hex(level), recording.Hex(100 + opt)}, Count: 1, Seen: 1})
		}
	}
	rec.Syscalls = []recording.Syscall{s}
	p, err := learn.FromRecording(rec, learn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := p.Lookup("setsockopt")
	if len(e.Rules) != 9 {
		t.Errorf("%d rules, want 9 (one per level): %v", len(e.Rules), e.Rules)
	}
	if len(e.Notes) != 1 || !strings.Contains(e.Notes[0], "optname (arg 2) not pinned") {
		t.Errorf("notes %q, want one saying optname is not pinned", e.Notes)
	}
	if got := p.Verdict("setsockopt", [6]uint64{0, 8, 12345}); got != allow {
		t.Errorf("level 8, any optname: %s, want allow", got)
	}
	if got := p.Verdict("setsockopt", [6]uint64{0, 9, 100}); got != eperm {
		t.Errorf("level 9: %s, want EPERM", got)
	}
}

// TestFlagsPerEnum: a flags argument is learned per combination of the
// enum arguments it was seen with.
func TestFlagsPerEnum(t *testing.T) {
	rec := &recording.Recording{Version: 1, Arch: "amd64", ArgShapes: true, Inputs: 1, Syscalls: []recording.Syscall{{
		Name: "fcntl", Number: 72, Count: 2, Seen: 1,
		Args: []recording.Arg{
			{Index: 1, Name: "cmd", Kind: recording.KindEnum, Mask: 0xffffffff},
			{Index: 2, Name: "arg", Kind: recording.KindFlags, Mask: 0xffffffff},
		},
		Shapes: []recording.Shape{
			{Values: []recording.Hex{unix.F_SETFL, unix.O_NONBLOCK}, Count: 1, Seen: 1},
			{Values: []recording.Hex{unix.F_SETFD, unix.FD_CLOEXEC}, Count: 1, Seen: 1},
		},
	}}}
	p, err := learn.FromRecording(rec, learn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []call{
		{"fcntl", [6]uint64{3, unix.F_SETFL, unix.O_NONBLOCK}, allow},
		{"fcntl", [6]uint64{3, unix.F_SETFL, 0}, allow},
		{"fcntl", [6]uint64{3, unix.F_SETFD, unix.FD_CLOEXEC}, allow},
		{"fcntl", [6]uint64{3, unix.F_SETFL, unix.FD_CLOEXEC}, eperm}, // bit seen only with F_SETFD
		{"fcntl", [6]uint64{3, unix.F_SETFL, unix.O_NONBLOCK | unix.O_APPEND}, eperm},
		{"fcntl", [6]uint64{3, unix.F_GETFL, 0}, eperm},
	} {
		if got := p.Verdict(c.name, c.args); got != c.want {
			t.Errorf("%v: %s, want %s", c, got, c.want)
		}
	}
}

// TestExclusiveSplit: W^X with other bits: each alternative keeps every
// other seen bit.
func TestExclusiveSplit(t *testing.T) {
	rec := &recording.Recording{Version: 1, Arch: "amd64", ArgShapes: true, Inputs: 1, Syscalls: []recording.Syscall{{
		Name: "pkey_mprotect", Number: 329, Count: 2, Seen: 1,
		Args: []recording.Arg{{Index: 2, Name: "prot", Kind: recording.KindFlags, Mask: 0xffffffff,
			Exclusive: []recording.Hex{unix.PROT_WRITE | unix.PROT_EXEC}}},
		Shapes: []recording.Shape{
			{Values: []recording.Hex{unix.PROT_WRITE | unix.PROT_GROWSDOWN}, Count: 1, Seen: 1},
			{Values: []recording.Hex{unix.PROT_EXEC | unix.PROT_READ}, Count: 1, Seen: 1},
		},
	}}}
	p, err := learn.FromRecording(rec, learn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []call{
		{"pkey_mprotect", [6]uint64{0, 0, unix.PROT_READ | unix.PROT_WRITE | unix.PROT_GROWSDOWN}, allow},
		{"pkey_mprotect", [6]uint64{0, 0, unix.PROT_READ | unix.PROT_EXEC | unix.PROT_GROWSDOWN}, allow},
		{"pkey_mprotect", [6]uint64{0, 0, unix.PROT_WRITE | unix.PROT_EXEC}, eperm},
		{"pkey_mprotect", [6]uint64{0, 0, unix.PROT_READ | unix.PROT_GROWSUP}, eperm},
	} {
		if got := p.Verdict(c.name, c.args); got != c.want {
			t.Errorf("%v: %s, want %s", c, got, c.want)
		}
	}
}

func TestFromRecordingErrors(t *testing.T) {
	rec := readRecording(t, "shapes.json")
	for _, opts := range []learn.Options{
		{Args: "paths"},
		{Runtime: "docker"},
		{MaxValues: -1}, // would unpin every enum argument
	} {
		if _, err := learn.FromRecording(rec, opts); err == nil {
			t.Errorf("%+v accepted", opts)
		}
	}
}

// TestUnpinnedRecording: a syscall seen without its arguments (log backend)
// is allowed whatever they are; a recorded clone3 is allowed, not stubbed.
func TestUnpinnedRecording(t *testing.T) {
	p := learnFile(t, "logbackend.json", learn.Options{})
	for _, c := range []call{
		{"socket", [6]uint64{unix.AF_PACKET, unix.SOCK_RAW}, allow},
		{"clone3", [6]uint64{}, allow},
		{"faccessat2", [6]uint64{}, learn.ErrnoENOSYS},
		{"write", [6]uint64{}, eperm},
	} {
		if got := p.Verdict(c.name, c.args); got != c.want {
			t.Errorf("%v: %s, want %s", c, got, c.want)
		}
	}
}

func ruleTexts(rs []learn.Rule) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.String())
	}
	return out
}

func equalProfiles(a, b *learn.Profile) bool {
	if a.Arch != b.Arch || a.DefaultAction != b.DefaultAction || a.Inputs != b.Inputs ||
		!slices.Equal(a.Notes, b.Notes) || len(a.Syscalls) != len(b.Syscalls) {
		return false
	}
	for i := range a.Syscalls {
		x, y := a.Syscalls[i], b.Syscalls[i]
		if x.Name != y.Name || x.Action != y.Action || x.Seen != y.Seen || x.Origin != y.Origin ||
			!slices.Equal(ruleTexts(x.Rules), ruleTexts(y.Rules)) || !slices.Equal(x.Notes, y.Notes) {
			return false
		}
	}
	return true
}

// TestRuntimeSyscalls: what the runtime calls itself is allowed for the
// arguments the runtime uses, a syscall the workload made too keeps its
// recorded origin, and the runtime's own rules do not open a pinned
// syscall to values neither uses.
func TestRuntimeSyscalls(t *testing.T) {
	p := learnFile(t, "shapes.json", learn.Options{Runtime: learn.LoaderRunc})
	rec := readRecording(t, "shapes.json")
	names := learn.LoaderSyscalls(learn.LoaderRunc)
	if len(names) == 0 {
		t.Fatal("no runc syscalls")
	}
	for _, name := range names {
		s := p.Lookup(name)
		if s == nil {
			t.Errorf("%s missing", name)
			continue
		}
		if s.Action != allow {
			t.Errorf("%s: %s, want allowed", name, s.Action)
		}
		wantOrigin := learn.OriginRuntime
		if rec.Lookup(name) != nil {
			wantOrigin = learn.OriginRecorded
		}
		if s.Origin != wantOrigin {
			t.Errorf("%s: origin %s, want %s", name, s.Origin, wantOrigin)
		}
	}
	for _, c := range []struct {
		name string
		args [6]uint64
		want learn.Action
	}{
		// runc's own calls.
		{"prctl", [6]uint64{unix.PR_CAPBSET_DROP, unix.CAP_SYS_ADMIN}, allow},
		{"prctl", [6]uint64{unix.PR_SET_KEEPCAPS, 1}, allow},
		{"fcntl", [6]uint64{3, unix.F_SETFD, unix.FD_CLOEXEC}, allow},
		{"openat", [6]uint64{3, 0, unix.O_WRONLY | unix.O_CLOEXEC}, allow},
		{"futex", [6]uint64{0, 128 | 1}, allow}, // FUTEX_WAKE_PRIVATE
		{"read", [6]uint64{3, 0, 4096}, allow},
		// Values runc does not use stay denied.
		{"prctl", [6]uint64{unix.PR_SET_DUMPABLE, 1}, learn.ErrnoEPERM},
		{"fcntl", [6]uint64{3, unix.F_DUPFD}, learn.ErrnoEPERM},
		{"mmap", [6]uint64{0, 4096, unix.PROT_WRITE | unix.PROT_EXEC}, learn.ErrnoEPERM},
		{"openat", [6]uint64{3, 0, unix.O_RDWR | unix.O_CREAT}, learn.ErrnoEPERM},
	} {
		if got := p.Verdict(c.name, c.args); got != c.want {
			t.Errorf("%s%#x: %s, want %s", c.name, c.args[:3], got, c.want)
		}
	}
	// What runc does not call keeps its rules.
	if s := p.Lookup("socket"); len(s.Rules) != 3 {
		t.Errorf("socket: %d rules under --runtime runc, want 3", len(s.Rules))
	}
}
