package learn_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/recording"
)

// drifted returns the new side of the diff tests: shapes.json plus ptrace
// and socket(AF_NETLINK, SOCK_RAW), mmap with PROT_WRITE|PROT_EXEC, and
// without write.
func drifted(t *testing.T) *recording.Recording {
	t.Helper()
	r := readRecording(t, "shapes.json")
	s := r.Lookup("socket")
	s.Shapes = append(s.Shapes, recording.Shape{Values: []recording.Hex{unix.AF_NETLINK, unix.SOCK_RAW, 0}, Count: 1, Seen: 1})
	m := r.Lookup("mmap")
	m.Shapes = append(m.Shapes, recording.Shape{Values: []recording.Hex{unix.PROT_WRITE | unix.PROT_EXEC}, Count: 1, Seen: 1})
	r.Syscalls = slices.DeleteFunc(r.Syscalls, func(s recording.Syscall) bool { return s.Name == "write" })
	r.Syscalls = append(r.Syscalls, recording.Syscall{Name: "ptrace", Number: unix.SYS_PTRACE, Count: 1, Seen: 1})
	r.Normalize()
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	return r
}

func diffText(d *learn.Difference) string {
	var b strings.Builder
	for _, s := range d.Syscalls {
		fmt.Fprintf(&b, "%s %s", s.Name, s.Change)
		for _, a := range s.Args {
			fmt.Fprintf(&b, " %s(%d)+%v-%v", a.Name, a.Index, a.Added, a.Removed)
		}
		b.WriteString("\n")
	}
	for _, x := range d.Drift {
		fmt.Fprintf(&b, "drift %s [%s] old %s\n", x.Syscall, x.Detail, x.Old)
	}
	for _, n := range d.Notes {
		fmt.Fprintf(&b, "note %s\n", n)
	}
	return b.String()
}

func mustDiff(t *testing.T, old, cur learn.DiffInput) *learn.Difference {
	t.Helper()
	d, err := learn.Diff(old, cur)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestDiffRecordings: added syscall, added argument values, removed
// syscall; drift for each new call the old recording's profile denies.
func TestDiffRecordings(t *testing.T) {
	old := readRecording(t, "shapes.json")
	d := mustDiff(t, learn.DiffInput{Recording: old}, learn.DiffInput{Recording: drifted(t)})
	want := `mmap changed prot(2)+[0x6]-[]
ptrace added
socket changed domain(0)+[0x10]-[] type(1)+[0x3]-[]
write removed
drift mmap [prot=0x6] old errno(EPERM)
drift ptrace [] old errno(EPERM)
drift socket [domain=0x10 type=0x3 protocol=0x0] old errno(EPERM)
`
	if got := diffText(d); got != want {
		t.Errorf("diff:\n%s\nwant:\n%s", got, want)
	}
	if !d.Drifted() {
		t.Error("not drifted")
	}
	// The other way round: removals, and write, which drifted(t) never
	// made, is the only drift.
	back := mustDiff(t, learn.DiffInput{Recording: drifted(t)}, learn.DiffInput{Recording: old})
	if got := diffText(back); !strings.Contains(got, "ptrace removed") || !strings.Contains(got, "write added") ||
		!strings.Contains(got, "socket changed domain(0)+[]-[0x10]") {
		t.Errorf("reverse diff:\n%s", got)
	}
	if len(back.Drift) != 1 || back.Drift[0].Syscall != "write" {
		t.Errorf("reverse drift %+v, want write only", back.Drift)
	}
}

// TestDiffSame: a recording against itself, or a profile against itself,
// shows nothing.
func TestDiffSame(t *testing.T) {
	r := readRecording(t, "shapes.json")
	p := learnFile(t, "shapes.json", learn.Options{})
	for _, tc := range []struct{ old, cur learn.DiffInput }{
		{learn.DiffInput{Recording: r}, learn.DiffInput{Recording: r}},
		{learn.DiffInput{Profile: p}, learn.DiffInput{Profile: p}},
		{learn.DiffInput{Profile: p}, learn.DiffInput{Recording: r}},
	} {
		d := mustDiff(t, tc.old, tc.cur)
		if d.Drifted() || len(d.Syscalls) != 0 {
			t.Errorf("diff of the same:\n%s", diffText(d))
		}
	}
}

// TestDiffSameDeadRules: a profile built in code (the reader refuses them)
// with rules no value matches diffs clean against itself: a rule old holds
// itself is never drift.
func TestDiffSameDeadRules(t *testing.T) {
	var masked, below, above learn.Rule
	masked[1] = learn.MaskedEqual{Mask: 0xff, Value: 0x100}
	below[0] = learn.Less{Value: 0}
	above[2] = learn.Greater{Value: ^uint64(0)}
	p := profile(
		learn.Syscall{Name: "ioctl", Action: allow, Seen: 1, Rules: []learn.Rule{masked, enumRule(1, 0x5401)}},
		learn.Syscall{Name: "fcntl", Action: allow, Seen: 1, Rules: []learn.Rule{below, above}},
	)
	d := mustDiff(t, learn.DiffInput{Profile: p}, learn.DiffInput{Profile: p.Copy()})
	if d.Drifted() || len(d.Syscalls) != 0 {
		t.Errorf("diff P P with dead rules:\n%s", diffText(d))
	}
}

// TestDiffProfiles: profiles compare by rules; drift is every syscall the
// new profile allows that the old denies, and every rule of the new one
// whose representative calls the old denies.
func TestDiffProfiles(t *testing.T) {
	old := learnFile(t, "shapes.json", learn.Options{})
	cur, err := learn.FromRecording(drifted(t), learn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := mustDiff(t, learn.DiffInput{Profile: old}, learn.DiffInput{Profile: cur})
	got := diffText(d)
	for _, want := range []string{
		"ptrace added\n",
		"write removed\n",
		"socket changed rules(-1)+[arg0 & 0xffffffff == 0x10 && arg1 & 0xfff7f7ff == 0x3 && arg2 & 0xffffffff == 0x0]-[]",
		"mmap changed rules(-1)+[arg2 & 0xfffffff8 == 0x0]-[arg2 & 0xfffffffa == 0x0 arg2 & 0xfffffffc == 0x0]",
		"drift ptrace [] old errno(EPERM)",
		"drift socket [rule arg0 & 0xffffffff == 0x10 && arg1 & 0xfff7f7ff == 0x3 && arg2 & 0xffffffff == 0x0] old errno(EPERM)",
		"drift mmap [rule arg2 & 0xfffffff8 == 0x0] old errno(EPERM)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("diff does not say %q:\n%s", want, got)
		}
	}
	if n := len(d.Drift); n != 3 {
		t.Errorf("%d drift entries, want 3:\n%s", n, got)
	}
	// An old profile that allows everything the new one does: no drift.
	wide := old.Copy()
	for i := range wide.Syscalls {
		wide.Syscalls[i].Rules = nil
	}
	for _, name := range []string{"ptrace"} {
		if err := wide.Add(learn.Syscall{Name: name, Action: learn.Allow}); err != nil {
			t.Fatal(err)
		}
	}
	if d := mustDiff(t, learn.DiffInput{Profile: wide}, learn.DiffInput{Profile: cur}); d.Drifted() {
		t.Errorf("drift against a wider profile:\n%s", diffText(d))
	}
	// New allows any arguments where old pins them.
	if d := mustDiff(t, learn.DiffInput{Profile: old}, learn.DiffInput{Profile: wide}); !strings.Contains(diffText(d), "drift socket [any arguments] old allowed only if arg0") {
		t.Errorf("unpinned socket against pinned:\n%s", diffText(d))
	}
}

// TestDiffProfileRecording: the CI case, a committed profile against a new
// recording.
func TestDiffProfileRecording(t *testing.T) {
	old := learnFile(t, "shapes.json", learn.Options{Runtime: learn.LoaderRunc})
	d := mustDiff(t, learn.DiffInput{Profile: old}, learn.DiffInput{Recording: drifted(t)})
	got := diffText(d)
	for _, want := range []string{"ptrace added", "drift ptrace", "drift socket [domain=0x10 type=0x3 protocol=0x0]", "drift mmap [prot=0x6]"} {
		if !strings.Contains(got, want) {
			t.Errorf("diff does not say %q:\n%s", want, got)
		}
	}
	// The recording is learned with runc's syscalls, which the profile
	// allows: they are not removed, and runc's futex is not "changed".
	for _, name := range learn.LoaderSyscalls(learn.LoaderRunc) {
		if name == "mmap" {
			continue // runc calls it too, but the drifted recording changes it
		}
		if strings.Contains(got, "\n"+name+" ") || strings.HasPrefix(got, name+" ") {
			t.Errorf("runc's %s listed:\n%s", name, got)
		}
	}
	// A log-backend recording has no argument values: pinned syscalls
	// are noted, not drift.
	logRec := readRecording(t, "logbackend.json")
	d = mustDiff(t, learn.DiffInput{Profile: old}, learn.DiffInput{Recording: logRec})
	if got := diffText(d); !strings.Contains(got, "note new recorded no argument values for socket") || strings.Contains(got, "drift socket") {
		t.Errorf("log recording against a pinned profile:\n%s", got)
	}
}

func TestDiffErrors(t *testing.T) {
	r := readRecording(t, "shapes.json")
	x86 := &learn.Profile{Arch: "x86", DefaultAction: learn.ErrnoEPERM}
	if _, err := learn.Diff(learn.DiffInput{Recording: r}, learn.DiffInput{Profile: x86}); err == nil || !strings.Contains(err.Error(), "old is for amd64, new for x86") {
		t.Errorf("arch mismatch: %v", err)
	}
	if _, err := learn.Diff(learn.DiffInput{}, learn.DiffInput{Recording: r}); err == nil {
		t.Error("empty input accepted")
	}
}
