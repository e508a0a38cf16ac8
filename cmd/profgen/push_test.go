package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/profgen/profgen/internal/testenv"
)

// TestPushPull records a program, emits its OCI profile, pushes it to a
// docker-registry on loopback and pulls it back into a file, byte for
// byte; the recording itself is refused, and a pull that fails (an
// unreachable registry, a tag that is not there) leaves -o FILE as it was
// and creates none, with one line on standard error.
func TestPushPull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("record needs root")
	}
	reg := testenv.StartRegistry(t)
	dir := t.TempDir()
	if r := runProfgen(t, dir, "record", "-o", "rec.json", "--", "true"); r.code != 0 {
		t.Fatalf("record: exit %d\n%s", r.code, r.stderr)
	}
	if r := runProfgen(t, dir, "emit", "--format", "oci", "-o", "seccomp.json", "rec.json"); r.code != 0 {
		t.Fatalf("emit: exit %d\n%s", r.code, r.stderr)
	}
	ref := reg + "/profiles/true:v1"
	r := runProfgen(t, dir, "push", "seccomp.json", ref)
	if r.code != 0 || !strings.HasPrefix(r.stdout, reg+"/profiles/true@sha256:") {
		t.Fatalf("push: exit %d, stdout %q\n%s", r.code, r.stdout, r.stderr)
	}
	for _, from := range []string{ref, strings.TrimSpace(r.stdout)} {
		if r := runProfgen(t, dir, "pull", from, "-o", "pulled.json"); r.code != 0 {
			t.Fatalf("pull %s: exit %d\n%s", from, r.code, r.stderr)
		}
		want, _ := os.ReadFile(filepath.Join(dir, "seccomp.json"))
		got, _ := os.ReadFile(filepath.Join(dir, "pulled.json"))
		if string(got) != string(want) || len(got) == 0 {
			t.Errorf("pull %s: the file differs from the pushed profile", from)
		}
		os.Remove(filepath.Join(dir, "pulled.json"))
	}
	if err := os.WriteFile(filepath.Join(dir, "old.json"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"push", "rec.json", ref}, "profile rec.json: a profgen recording, not an OCI seccomp profile"},
		{[]string{"push", "seccomp.json", reg + "/profiles/true"}, "push needs a tag"},
		{[]string{"push", "seccomp.json", "127.0.0.1:1/profiles/true:v1"}, "connection refused"},
		{[]string{"pull", "127.0.0.1:1/profiles/true:v1", "-o", "old.json"}, "connection refused"},
		{[]string{"pull", reg + "/profiles/true:nosuchtag", "-o", "old.json"}, "not found"},
		{[]string{"pull", "127.0.0.1:1/profiles/true:v1", "-o", "new.json"}, "connection refused"},
		{[]string{"pull", "Bad Ref", "-o", "new.json"}, `reference "Bad Ref"`},
		{[]string{"pull", ref}, "pull needs -o FILE"},
	} {
		r := runProfgen(t, dir, c.args...)
		if r.code != 1 || !strings.Contains(r.stderr, c.want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("profgen %v: exit %d, stderr %q, want one line with %q", c.args, r.code, r.stderr, c.want)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "old.json")); string(b) != "old" {
		t.Errorf("a failed pull changed -o old.json to %q", b)
	}
	if _, err := os.Stat(filepath.Join(dir, "new.json")); !os.IsNotExist(err) {
		t.Errorf("a failed pull left -o new.json: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
