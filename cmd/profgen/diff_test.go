package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/profgen/profgen/emit"
	"github.com/profgen/profgen/internal/exitcode"
	"github.com/profgen/profgen/internal/workload"
	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/readers"
	"github.com/profgen/profgen/recording"
	"github.com/profgen/profgen/replay"
)

// TestDiffAddedSyscall: NEW makes a syscall OLD never did: drift, exit 1.
func TestDiffAddedSyscall(t *testing.T) {
	dir := t.TempDir()
	old := writeRecording(t, dir, "old.json", nil)
	cur := writeRecording(t, dir, "new.json", addSyscall("ptrace", 101))
	res := runProfgen(t, dir, "diff", old, cur)
	if res.code != 1 {
		t.Fatalf("exit %d, want 1; stderr %q", res.code, res.stderr)
	}
	if !hasRow(res.stdout, "ptrace", "added") || !strings.Contains(res.stdout, "DRIFT: NEW needs what OLD does not allow:\n  ptrace: OLD says errno(EPERM)\n") {
		t.Errorf("output:\n%s", res.stdout)
	}
	if res.stderr != "" {
		t.Errorf("stderr %q", res.stderr)
	}
}

// TestDiffAddedValue: NEW calls socket with a family OLD never used.
func TestDiffAddedValue(t *testing.T) {
	dir := t.TempDir()
	old := writeRecording(t, dir, "old.json", nil)
	cur := writeRecording(t, dir, "new.json", func(r *recording.Recording) {
		r.Syscalls[1].Shapes = append(r.Syscalls[1].Shapes, recording.Shape{Values: []recording.Hex{16, 3, 0}, Count: 1, Seen: 1})
	})
	res := runProfgen(t, dir, "diff", old, cur)
	if res.code != 1 {
		t.Fatalf("exit %d, want 1; stderr %q", res.code, res.stderr)
	}
	for _, row := range [][]string{
		{"socket", "changed", "domain (arg 0)", "0x10", "-"},
		{"type (arg 1)", "0x3", "-"},
		{"socket (domain=0x10 type=0x3 protocol=0x0): OLD says errno(EPERM)"},
	} {
		if !hasRow(res.stdout, row...) {
			t.Errorf("no row %q in:\n%s", row, res.stdout)
		}
	}
}

// TestDiffRemovedSyscall: NEW no longer calls write: shown, not drift.
func TestDiffRemovedSyscall(t *testing.T) {
	dir := t.TempDir()
	old := writeRecording(t, dir, "old.json", nil)
	cur := writeRecording(t, dir, "new.json", func(r *recording.Recording) { r.Syscalls = r.Syscalls[:2] })
	res := runProfgen(t, dir, "diff", old, cur)
	if res.code != 0 {
		t.Fatalf("exit %d, want 0; stderr %q", res.code, res.stderr)
	}
	if !hasRow(res.stdout, "write", "removed") || !strings.Contains(res.stdout, "OK: NEW needs nothing OLD does not allow") {
		t.Errorf("output:\n%s", res.stdout)
	}
	same := runProfgen(t, dir, "diff", old, old)
	if same.code != 0 || !strings.Contains(same.stdout, "no syscall or argument changes") {
		t.Errorf("diff of a file with itself: exit %d\n%s", same.code, same.stdout)
	}
}

// TestDiffJSON: --json has the same content, machine-readable.
func TestDiffJSON(t *testing.T) {
	dir := t.TempDir()
	old := writeRecording(t, dir, "old.json", nil)
	cur := writeRecording(t, dir, "new.json", func(r *recording.Recording) {
		addSyscall("ptrace", 101)(r)
		r.Syscalls = r.Syscalls[1:] // no read
	})
	res := runProfgen(t, dir, "diff", "--json", old, cur)
	if res.code != 1 {
		t.Fatalf("exit %d, want 1; stderr %q", res.code, res.stderr)
	}
	var out struct {
		Old, New string
		Drifted  bool
		Syscalls []struct{ Name, Change string }
		Drift    []struct{ Syscall, Old string }
	}
	if err := json.Unmarshal([]byte(res.stdout), &out); err != nil {
		t.Fatalf("%v:\n%s", err, res.stdout)
	}
	if !out.Drifted || out.Old != "recording "+old || out.New != "recording "+cur {
		t.Errorf("drifted %v old %q new %q", out.Drifted, out.Old, out.New)
	}
	got := ""
	for _, s := range out.Syscalls {
		got += s.Name + ":" + s.Change + " "
	}
	if got != "ptrace:added read:removed " {
		t.Errorf("syscalls %q", got)
	}
	if len(out.Drift) != 1 || out.Drift[0].Syscall != "ptrace" || out.Drift[0].Old != "errno(EPERM)" {
		t.Errorf("drift %+v", out.Drift)
	}
}

// TestDiffProfileAgainstRecording: the CI gate, a committed OCI profile
// (emitted from the old recording) against the release candidate's
// recording.
func TestDiffProfileAgainstRecording(t *testing.T) {
	dir := t.TempDir()
	old := writeRecording(t, dir, "old.json", nil)
	prof := filepath.Join(dir, "seccomp.json")
	if r := runProfgen(t, dir, "emit", "--format", "oci", "-o", prof, old); r.code != 0 {
		t.Fatalf("emit: %s", r.stderr)
	}
	if r := runProfgen(t, dir, "diff", prof, old); r.code != 0 {
		t.Errorf("profile against its own recording: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	cur := writeRecording(t, dir, "new.json", func(r *recording.Recording) {
		r.Syscalls[1].Shapes = append(r.Syscalls[1].Shapes, recording.Shape{Values: []recording.Hex{17, 3, 0x300}, Count: 1, Seen: 1})
	})
	res := runProfgen(t, dir, "diff", prof, cur)
	if res.code != 1 || !strings.Contains(res.stdout, "socket (domain=0x11 type=0x3 protocol=0x300): OLD says errno(EPERM)") {
		t.Errorf("exit %d:\n%s%s", res.code, res.stdout, res.stderr)
	}
	// Profile against profile.
	prof2 := filepath.Join(dir, "seccomp2.json")
	if r := runProfgen(t, dir, "emit", "--format", "oci", "-o", prof2, cur); r.code != 0 {
		t.Fatalf("emit: %s", r.stderr)
	}
	res = runProfgen(t, dir, "diff", prof, prof2)
	if res.code != 1 || !hasRow(res.stdout, "socket", "changed", "rules", "arg0 & 0xffffffff == 0x11 && arg1 & 0xfff7f7ff == 0x3 && arg2 & 0xffffffff == 0x300", "-") {
		t.Errorf("profiles: exit %d:\n%s%s", res.code, res.stdout, res.stderr)
	}
}

// TestDiffErrors: errors exit with status 2 and one line on stderr.
func TestDiffErrors(t *testing.T) {
	dir := t.TempDir()
	old := writeRecording(t, dir, "old.json", nil)
	x86 := writeRecording(t, dir, "x86.json", func(r *recording.Recording) {
		r.Arch = "x86"
		r.Syscalls = []recording.Syscall{{Name: "read", Number: 3, Count: 1, Seen: 1}}
	})
	garbage := filepath.Join(dir, "garbage.json")
	os.WriteFile(garbage, []byte(`{"hello": "world"}`), 0o644)
	corrupt := filepath.Join(dir, "corrupt.json")
	os.WriteFile(corrupt, []byte("{\n  \"version\": 1,\n  \"syscalls\": [\n"), 0o644)
	future := writeRecording(t, dir, "future.json", nil)
	data, _ := os.ReadFile(future)
	os.WriteFile(future, []byte(strings.Replace(string(data), `"version": 3`, `"version": 9`, 1)), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{old}, "diff needs OLD and NEW, got 1 argument(s)"},
		{[]string{old, filepath.Join(dir, "missing.json")}, "no such file"},
		{[]string{old, garbage}, "neither a profgen recording"},
		{[]string{old, corrupt}, "line 4 column 1"},
		{[]string{future, old}, "format version 9 is newer"},
		{[]string{old, x86}, "old is for amd64, new for x86"},
		{[]string{"--frobnicate", old, old}, "unknown flag: --frobnicate"},
	} {
		res := runProfgen(t, dir, append([]string{"diff"}, tc.args...)...)
		if res.code != 2 {
			t.Errorf("diff %v: exit %d, want 2", tc.args, res.code)
		}
		if lines := strings.Split(strings.TrimRight(res.stderr, "\n"), "\n"); len(lines) != 1 || !strings.Contains(res.stderr, tc.want) {
			t.Errorf("diff %v: stderr %q, want one line saying %q", tc.args, res.stderr, tc.want)
		}
	}
}

// TestDiffHelp documents the exit statuses.
func TestDiffHelp(t *testing.T) {
	res := runProfgen(t, "", "diff", "--help")
	for _, want := range []string{"0  no drift", "1  drift", "2  error", "Examples:"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("help does not say %q:\n%s", want, res.stdout)
		}
	}
}

// TestDiffArgShapesWorkload records the argshapes workload (eBPF backend)
// in its normal mode and in each variant, and checks that diff names the
// one out-of-profile call of each variant, by syscall and value, both
// against the normal recording and against the profile emitted from it;
// and that the static replay of the normal recording under its own
// profile (through OCI, libseccomp and the BPF VM) passes while each
// variant's call is denied.
func TestDiffArgShapesWorkload(t *testing.T) {
	bin := workload.Build(t, "argshapes")
	dir := t.TempDir()
	record := func(name string, args ...string) string {
		t.Helper()
		out := filepath.Join(dir, name+".json")
		r := runProfgen(t, dir, append([]string{"record", "-o", out, "--", bin}, args...)...)
		if r.code != 0 {
			t.Fatalf("record %s: exit %d: %s", name, r.code, r.stderr)
		}
		return out
	}
	normal := record("normal")
	prof := filepath.Join(dir, "seccomp.json")
	// --runtime none: runc's own syscalls include prctl with any option,
	// which would allow the dumpable variant.
	if r := runProfgen(t, dir, "emit", "--runtime", "none", "-o", prof, normal); r.code != 0 {
		t.Fatalf("emit: %s", r.stderr)
	}
	for _, old := range []string{normal, prof} {
		if r := runProfgen(t, dir, "diff", old, normal); r.code != 0 {
			t.Errorf("diff %s normal: exit %d\n%s%s", filepath.Base(old), r.code, r.stdout, r.stderr)
		}
	}
	rec, err := recording.ReadFile(normal)
	if err != nil {
		t.Fatal(err)
	}
	model, err := learn.FromRecording(rec, learn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := emit.OCI(model, emit.OCIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := emit.WriteOCI(&b, doc); err != nil {
		t.Fatal(err)
	}
	back, err := readers.ParseOCI([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := replay.Static(back, rec)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Checked < uint64(len(rec.Syscalls)) {
		t.Errorf("static replay of the normal recording: %+v", rep)
	}

	for _, v := range []struct {
		variant, syscall, detail string
	}{
		{"netlink", "socket", "domain=0x10 "},
		{"packet", "socket", "domain=0x11 "},
		{"ioctl", "ioctl", "request=0x5412"}, // TIOCSTI
		{"dumpable", "prctl", "option=0x4"},
		{"wx", "mmap", "prot=0x6"},
	} {
		rec := record(v.variant, "--variant", v.variant)
		for _, old := range []string{normal, prof} {
			r := runProfgen(t, dir, "diff", old, rec)
			want := "DRIFT: NEW needs what OLD does not allow:\n  " + v.syscall + " (" + v.detail
			if r.code != 1 || !strings.Contains(r.stdout, want) || strings.Count(r.stdout, "OLD says") != 1 {
				t.Errorf("diff %s %s: exit %d, want 1 and one drift saying %q:\n%s%s", filepath.Base(old), v.variant, r.code, want, r.stdout, r.stderr)
			}
		}
		vr, err := recording.ReadFile(rec)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := replay.Static(back, vr)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Violations) != 1 || rep.Violations[0].Syscall != v.syscall {
			t.Errorf("static replay of %s: violations %+v, want one %s", v.variant, rep.Violations, v.syscall)
		}
	}
}

// TestDiffBrokenProfile: a broken OCI profile is reported as a profile,
// with the place of the error.
func TestDiffBrokenProfile(t *testing.T) {
	dir := t.TempDir()
	old := writeRecording(t, dir, "old.json", nil)
	broken := filepath.Join(dir, "seccomp.json")
	os.WriteFile(broken, []byte("{\n  \"defaultAction\": \"SCMP_ACT_ERRNO\",\n  \"syscalls\": [}\n"), 0o644)
	res := runProfgen(t, dir, "diff", broken, old)
	if res.code != 2 || !strings.Contains(res.stderr, "invalid profile: line 3 column 16") {
		t.Errorf("exit %d, stderr %q", res.code, res.stderr)
	}
}

// TestDiffIncompleteProfile: a NEW profile emitted --allow-incomplete
// (profgenIncomplete) gives no verdict, as a NEW recording that lost
// events does; as OLD it is reported and the verdict stands.
func TestDiffIncompleteProfile(t *testing.T) {
	dir := t.TempDir()
	clean := writeRecording(t, dir, "clean.json", nil)
	lossy := writeRecording(t, dir, "lossy.json", func(r *recording.Recording) { r.Lost = 7 })
	for _, args := range [][]string{
		{"emit", "--runtime", "none", "-o", "clean-p.json", clean},
		{"emit", "--runtime", "none", "--allow-incomplete", "-o", "marked.json", lossy},
	} {
		if r := runProfgen(t, dir, args...); r.code != 0 {
			t.Fatalf("%v: exit %d, %s", args, r.code, r.stderr)
		}
	}
	const mark = "the profile is marked incomplete (profgenIncomplete): learned from recordings that lost events"
	for _, old := range []string{clean, "clean-p.json"} {
		r := runProfgen(t, dir, "diff", old, "marked.json")
		if r.code != exitcode.NoVerdict || !strings.Contains(r.stdout, "incomplete: NEW: "+mark) || !strings.Contains(r.stdout, "NO VERDICT") {
			t.Errorf("diff %s marked.json: exit %d, want %d\n%s%s", old, r.code, exitcode.NoVerdict, r.stdout, r.stderr)
		}
		r = runProfgen(t, dir, "diff", "--json", old, "marked.json")
		var rep diffReport
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != exitcode.NoVerdict || len(rep.Incomplete) != 1 {
			t.Errorf("diff --json %s marked.json: exit %d, %v\n%s", old, r.code, err, r.stdout)
		}
	}
	r := runProfgen(t, dir, "diff", "marked.json", "clean-p.json")
	if r.code != exitcode.OK || !strings.Contains(r.stdout, "incomplete: OLD: "+mark) || !strings.Contains(r.stdout, "OK:") {
		t.Errorf("diff marked.json clean-p.json: exit %d, want 0\n%s%s", r.code, r.stdout, r.stderr)
	}
}
