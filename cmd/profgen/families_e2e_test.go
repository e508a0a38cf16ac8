package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/profgen/profgen/internal/exitcode"
	"github.com/profgen/profgen/internal/workload"
	"github.com/profgen/profgen/recording"
)

// TestIoctlFamiliesAcrossEnvironments is the environment-robust argument
// rule at work: fdprobe, recorded on the host with its standard input a
// file, calls ioctl(FIOCLEX); replayed in runc with its standard input a
// pipe, it calls ioctl(FIONBIO) instead. The learned profile allows the
// descriptor-flags family (learn/families.go), so the replay passes; with
// that rule taken out of the profile, FIONBIO is denied.
func TestIoctlFamiliesAcrossEnvironments(t *testing.T) {
	bin := workload.Build(t, "fdprobe")
	dir := t.TempDir()
	input := filepath.Join(dir, "input")
	if err := os.WriteFile(input, []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(input)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	rec := exec.Command(buildProfgen(t), "record", "-o", filepath.Join(dir, "rec.json"), "--", bin)
	rec.Dir, rec.Stdin, rec.Stdout, rec.Stderr = dir, in, out, out
	if err := rec.Run(); err != nil {
		b, _ := os.ReadFile(out.Name())
		t.Fatalf("record with stdin a file: %v\n%s", err, b)
	}
	if b, _ := os.ReadFile(out.Name()); !strings.Contains(string(b), "fdprobe: file ok") {
		t.Fatalf("fdprobe did not see a file: %s", b)
	}
	r, err := recording.ReadFile(filepath.Join(dir, "rec.json"))
	if err != nil {
		t.Fatal(err)
	}
	if s := r.Lookup("ioctl"); s == nil || len(s.Shapes) == 0 {
		t.Fatalf("no ioctl recorded: %v", r.Names())
	}

	if res := runProfgen(t, dir, "emit", "-o", "seccomp.json", "rec.json"); res.code != 0 {
		t.Fatalf("emit: %d %s", res.code, res.stderr)
	}
	// runProfgen gives profgen pipes: the container's standard input is one.
	replay := func(profile string) result {
		cmd := exec.Command(buildProfgen(t), "replay", "--profile", profile, "--", bin)
		cmd.Dir = dir
		cmd.Stdin = strings.NewReader("x\n")
		return runResult(t, cmd)
	}
	if res := replay("seccomp.json"); res.code != exitcode.OK || !strings.Contains(res.stdout+res.stderr, "fdprobe: pipe ok") {
		t.Errorf("replay in runc with stdin a pipe: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	// Without the family's FIONBIO rule the replay is denied: the family
	// is what made the difference.
	prof, err := os.ReadFile(filepath.Join(dir, "seccomp.json"))
	if err != nil {
		t.Fatal(err)
	}
	narrow := strings.ReplaceAll(string(prof), `"valueTwo": 21537,`, `"valueTwo": 1,`) // FIONBIO (0x5421) -> nothing
	if narrow == string(prof) {
		t.Fatalf("the profile has no FIONBIO rule:\n%s", prof)
	}
	if err := os.WriteFile(filepath.Join(dir, "narrow.json"), []byte(narrow), 0o644); err != nil {
		t.Fatal(err)
	}
	if res := replay("narrow.json"); res.code != exitcode.Found || !strings.Contains(res.stdout, "ioctl") {
		t.Errorf("replay without FIONBIO: exit %d, want denied ioctl\n%s%s", res.code, res.stdout, res.stderr)
	}
}
