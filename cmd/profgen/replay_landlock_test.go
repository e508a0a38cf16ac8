package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReplayLandlockStatic: replay --static --landlock checks the
// recording's landlock section against the ruleset: the ruleset learned
// from it passes, one without a port fails naming it.
func TestReplayLandlockStatic(t *testing.T) {
	dir := t.TempDir()
	rec := writeRecording(t, dir, "rec.json", withLandlock(8080, "/srv/a/1", "/etc/app.conf"))
	prof := filepath.Join(dir, "seccomp.json")
	rs := filepath.Join(dir, "ruleset.json")
	for _, args := range [][]string{{"emit", "-o", prof, rec}, {"emit", "--format", "landlock", "-o", rs, rec}} {
		if res := runProfgen(t, dir, args...); res.code != 0 {
			t.Fatalf("%v: %s", args, res.stderr)
		}
	}
	res := runProfgen(t, dir, "replay", "--static", "--profile", prof, "--landlock", rs, rec)
	if res.code != 0 || !strings.Contains(res.stdout, "PASS: static replay") || !strings.Contains(res.stdout, "no syscall and no access denied") {
		t.Fatalf("learned ruleset: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	data, err := os.ReadFile(rs)
	if err != nil {
		t.Fatal(err)
	}
	narrow := filepath.Join(dir, "narrow.json")
	if err := os.WriteFile(narrow, []byte(strings.Replace(string(data), "8080", "8081", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	res = runProfgen(t, dir, "replay", "--static", "--profile", prof, "--landlock", narrow, rec)
	if res.code != 1 || !strings.Contains(res.stdout, "bind_tcp") || !strings.Contains(res.stdout, "port 8080") {
		t.Errorf("narrowed ruleset: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	res = runProfgen(t, dir, "replay", "--static", "--landlock", narrow, rec)
	if res.code != 1 || !strings.Contains(res.stdout, "port 8080") || !strings.Contains(res.stdout, "only the Landlock ruleset was checked") {
		t.Errorf("narrowed ruleset alone: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	res = runProfgen(t, dir, "replay", "--static", "--profile", prof, "--landlock", filepath.Join(dir, "missing.json"), rec)
	if res.code != 2 || strings.Count(strings.TrimSpace(res.stderr), "\n") != 0 || !strings.Contains(res.stderr, "missing.json") {
		t.Errorf("missing ruleset: exit %d %q", res.code, res.stderr)
	}
}

// TestReplayLandlockLive: replay --runtime none --landlock (no seccomp
// profile) runs the command under the ruleset and names each denial.
func TestReplayLandlockLive(t *testing.T) {
	dir := t.TempDir()
	rs := filepath.Join(dir, "ruleset.json")
	if err := os.WriteFile(rs, []byte(`{"ruleset": [{"handledAccessFs": ["execute", "read_file"]}],
 "pathBeneath": [{"allowedAccess": ["execute", "read_file"], "parent": ["/usr", "/etc/ld.so.cache", "/etc/locale.alias", "/etc/hostname"]}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	res := runProfgen(t, dir, "replay", "--runtime", "none", "--landlock", rs, "--", "/bin/sh", "-c", "cat /etc/hostname >/dev/null && cat /etc/shadow")
	if res.code != 1 || !strings.Contains(res.stdout, "/etc/shadow") || strings.Contains(res.stdout, "/etc/hostname") || !strings.Contains(res.stdout, "FAIL: live replay") {
		t.Errorf("exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	res = runProfgen(t, dir, "replay", "--runtime", "none", "--landlock", rs, "--", "cat", "/etc/hostname")
	if res.code != 0 || !strings.Contains(res.stdout, "PASS: live replay") {
		t.Errorf("allowed: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
}
