package learn

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/recording"
)

// TestFills: each replacement is for a syscall x86_64 has and aarch64
// lacks, by one aarch64 has, and its arguments fit.
func TestFills(t *testing.T) {
	from := map[string]bool{}
	for _, f := range fills {
		if from[f.From] {
			t.Errorf("%s listed twice", f.From)
		}
		from[f.From] = true
		if _, err := abi.SyscallNumber("amd64", f.From); err != nil {
			t.Errorf("%s: %v", f.From, err)
		}
		if _, err := abi.SyscallNumber("arm64", f.From); !errors.Is(err, abi.ErrNotOnArch) {
			t.Errorf("%s exists on arm64 (%v): nothing to fill", f.From, err)
		}
		if _, err := abi.SyscallNumber("arm64", f.To); err != nil {
			t.Errorf("%s -> %s: %v", f.From, f.To, err)
		}
		if f.Shift < 0 || f.Shift > 1 || f.Why == "" {
			t.Errorf("%s: shift %d, why %q", f.From, f.Shift, f.Why)
		}
	}
}

func TestParseArches(t *testing.T) {
	got, err := ParseArches("x86_64,aarch64")
	if err != nil || len(got) != 2 || got[0] != "amd64" || got[1] != "arm64" {
		t.Fatalf("x86_64,aarch64: %v, %v", got, err)
	}
	if got, err := ParseArches("arm64"); err != nil || len(got) != 1 || got[0] != "arm64" {
		t.Errorf("arm64: %v, %v", got, err)
	}
	for in, want := range map[string]string{
		"vax":            `unknown architecture "vax" (want x86_64, aarch64)`,
		"":               `unknown architecture ""`,
		"x86_64,":        `unknown architecture ""`,
		"riscv64":        `architecture "riscv64": libseccomp knows it, but profgen does not know its argument values`,
		"aarch64,arm64":  `architecture "arm64" listed twice`,
		"x86_64\nvax":    `unknown architecture`,
		"aarch64;x86_64": `unknown architecture "aarch64;x86_64"`,
	} {
		_, err := ParseArches(in)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") && !strings.Contains(in, "\n") {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
	}
}

func loadArchRecording(t *testing.T) *Profile {
	t.Helper()
	rec, err := recording.ReadFile("testdata/arch-x86_64.json")
	if err != nil {
		t.Fatal(err)
	}
	p, err := FromRecording(rec, Options{Runtime: LoaderNone})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func has(ws []string, subs ...string) bool {
	for _, w := range ws {
		ok := true
		for _, s := range subs {
			ok = ok && strings.Contains(w, s)
		}
		if ok {
			return true
		}
	}
	return false
}

func TestForArch(t *testing.T) {
	p := loadArchRecording(t)
	const (
		cloexec = unix.O_CLOEXEC
		dirX86  = unix.O_DIRECTORY // 0x10000
		dirArm  = 0x4000
		nofX86  = unix.O_NOFOLLOW // 0x20000
		nofArm  = 0x8000
	)
	arm, warnings, err := ForArch(p, "arm64", ArchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if arm.Arch != "arm64" {
		t.Errorf("arch %s", arm.Arch)
	}
	for _, name := range []string{"open", "stat", "lstat", "epoll_wait", "epoll_create", "arch_prctl", "newfstatat", "epoll_pwait", "epoll_create1"} {
		if arm.Lookup(name) != nil {
			t.Errorf("%s in the aarch64 profile without --arch-fill", name)
		}
	}
	for _, w := range [][]string{
		{"aarch64 has no open", "openat covers it", "--arch-fill"},
		{"aarch64 has no stat", "newfstatat"},
		{"aarch64 has no epoll_wait", "epoll_pwait"},
		{"aarch64 has no arch_prctl", "left out"},
	} {
		if !has(warnings, w...) || !has(arm.Notes, w...) {
			t.Errorf("no warning and note %q in %q", w, warnings)
		}
	}
	// openat's recorded O_CLOEXEC|O_NOFOLLOW|O_NONBLOCK, at aarch64's bits.
	if v := arm.Verdict("openat", [6]uint64{2: cloexec | nofArm | unix.O_NONBLOCK}); v != Allow {
		t.Errorf("aarch64 openat O_NOFOLLOW: %s", v)
	}
	// x86's O_NOFOLLOW bit is aarch64's O_LARGEFILE, never recorded.
	if v := arm.Verdict("openat", [6]uint64{2: cloexec | nofX86}); v == Allow {
		t.Error("aarch64 openat allows the x86_64 O_NOFOLLOW bit")
	}
	// open's O_DIRECTORY is not carried without fill.
	if v := arm.Verdict("openat", [6]uint64{2: cloexec | dirArm}); v == Allow {
		t.Error("openat O_DIRECTORY allowed without --arch-fill (only open used it)")
	}
	// Unchanged arguments keep their rules.
	if got, want := ruleText(arm.Lookup("socket").Rules), ruleText(p.Lookup("socket").Rules); got != want {
		t.Errorf("socket rules %s, want %s", got, want)
	}

	filled, warnings, err := ForArch(p, "arm64", ArchOptions{Fill: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"newfstatat", "epoll_pwait", "epoll_create1", "openat"} {
		if filled.Lookup(name) == nil {
			t.Errorf("--arch-fill: no %s", name)
		}
	}
	if filled.Lookup("arch_prctl") != nil || filled.Lookup("open") != nil {
		t.Error("--arch-fill kept a syscall aarch64 lacks")
	}
	if !has(warnings, "aarch64 has no open", "openat allowed instead") {
		t.Errorf("warnings %q", warnings)
	}
	// open(p, O_DIRECTORY|O_CLOEXEC) is openat(AT_FDCWD, p, ...) there.
	if v := filled.Verdict("openat", [6]uint64{2: cloexec | dirArm}); v != Allow {
		t.Errorf("filled openat O_DIRECTORY: %s", v)
	}
	if v := filled.Verdict("openat", [6]uint64{2: cloexec | dirX86}); v == Allow {
		t.Error("filled openat allows x86_64's O_DIRECTORY bit (aarch64's O_DIRECT)")
	}
	if got := filled.Lookup("epoll_pwait"); got.Origin != OriginRecorded || got.Seen != 1 || !has(got.Notes, "replaces epoll_wait") {
		t.Errorf("epoll_pwait %+v", got)
	}

	// The other way: x86_64 again, every value back where it was.
	back, warnings, err := ForArch(filled, "amd64", ArchOptions{})
	if err != nil || len(warnings) != 0 {
		t.Fatalf("back to amd64: %v, %q", err, warnings)
	}
	if v := back.Verdict("openat", [6]uint64{2: cloexec | dirX86}); v != Allow {
		t.Errorf("back on amd64: openat O_DIRECTORY %s", v)
	}
	same, warnings, err := ForArch(p, "amd64", ArchOptions{Fill: true})
	if err != nil || len(warnings) != 0 || ruleText(same.Lookup("openat").Rules) != ruleText(p.Lookup("openat").Rules) {
		t.Errorf("amd64 to amd64 changed the profile: %v %q", err, warnings)
	}
}

// TestForArchAllowedByName: a rule that cannot be carried over leaves its
// syscall allowed by name, loudly.
func TestForArchAllowedByName(t *testing.T) {
	p := &Profile{Arch: "amd64", DefaultAction: ErrnoEPERM, Inputs: 1}
	var order, unknown Rule
	order[2] = Less{0x100} // an order of open flags means nothing once moved
	unknown[0] = Equal{3}  // read's fd: no decision
	for _, s := range []Syscall{
		{Name: "openat", Action: Allow, Rules: []Rule{order}, Origin: OriginImported},
		{Name: "read", Action: Allow, Rules: []Rule{unknown}, Origin: OriginImported},
	} {
		if err := p.Add(s); err != nil {
			t.Fatal(err)
		}
	}
	arm, warnings, err := ForArch(p, "arm64", ArchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"openat", "read"} {
		if s := arm.Lookup(name); s == nil || !s.Unconditional() {
			t.Errorf("%s: %+v, want allowed by name", name, s)
		}
		if !has(warnings, "ALLOWED BY NAME", name) {
			t.Errorf("no loud warning for %s: %q", name, warnings)
		}
	}
}

// TestForArches: one profile for both architectures names what each has
// and says that openat's rules, which differ, are united.
func TestForArches(t *testing.T) {
	p := loadArchRecording(t)
	both, warnings, err := ForArches(p, []abi.Arch{"amd64", "arm64"}, ArchOptions{Fill: true})
	if err != nil {
		t.Fatal(err)
	}
	if both.Arch != "amd64" {
		t.Errorf("arch %s", both.Arch)
	}
	for _, name := range []string{"open", "stat", "arch_prctl", "epoll_wait", "openat", "newfstatat", "epoll_pwait"} {
		if both.Lookup(name) == nil {
			t.Errorf("no %s", name)
		}
	}
	if !has(warnings, "one document for x86_64, aarch64", "the rules of openat differ") {
		t.Errorf("no warning about the united rules: %q", warnings)
	}
	// Names filled for aarch64 apply on x86_64 too, which has them.
	if !has(warnings, "x86_64 also allows", "epoll_pwait", "newfstatat") || has(warnings, "aarch64 also allows") {
		t.Errorf("no (or a wrong) warning about names added for the other architecture: %q", warnings)
	}
	if s := both.Lookup("read"); s.Seen != 1 {
		t.Errorf("read seen %d, want 1 (not counted once per architecture)", s.Seen)
	}
	if _, _, err := ForArches(p, nil, ArchOptions{}); err == nil {
		t.Error("no architecture accepted")
	}
	if _, _, err := ForArch(p, "vax", ArchOptions{}); err == nil {
		t.Error("unknown architecture accepted")
	}
	if _, _, err := ForArch(p, "riscv64", ArchOptions{}); err == nil {
		t.Error("riscv64 accepted: its argument values were never checked")
	}
}

func TestTranslateCall(t *testing.T) {
	name, args, ok, err := TranslateCall("amd64", "arm64", "open", [6]uint64{0x1000, unix.O_DIRECTORY | unix.O_CLOEXEC}, true)
	if err != nil || !ok || name != "openat" || args[2] != 0x4000|unix.O_CLOEXEC || args[1] != 0x1000 || args[0] != 0 {
		t.Errorf("open: %s %#x %v %v", name, args, ok, err)
	}
	if _, _, ok, err := TranslateCall("amd64", "arm64", "open", [6]uint64{}, false); ok || err != nil {
		t.Errorf("open without fill: %v %v", ok, err)
	}
	if _, _, ok, _ := TranslateCall("amd64", "arm64", "arch_prctl", [6]uint64{}, true); ok {
		t.Error("arch_prctl has a replacement")
	}
	name, args, ok, err = TranslateCall("amd64", "arm64", "ioctl", [6]uint64{1, 0x5421}, true)
	if err != nil || !ok || name != "ioctl" || args[1] != 0x5421 || args[0] != 1 {
		t.Errorf("ioctl: %s %#x %v %v", name, args, ok, err)
	}
}
