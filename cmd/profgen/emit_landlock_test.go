package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/profgen/profgen/landlock"
	"github.com/profgen/profgen/recording"
)

// withLandlock adds a landlock section of successful reads of paths and a
// bound port.
func withLandlock(port uint16, paths ...string) func(*recording.Recording) {
	return func(r *recording.Recording) {
		l := &recording.Landlock{TCPBind: []recording.LandlockPort{{Port: port, Count: 1, Seen: 1}}}
		for _, p := range paths {
			l.Accesses = append(l.Accesses, recording.LandlockAccess{Path: p, Right: "read_file", OK: 1, Seen: 1})
		}
		l.Normalize()
		raw, err := json.Marshal(l)
		if err != nil {
			panic(err)
		}
		r.Sections = map[string]json.RawMessage{recording.LandlockKind: raw}
	}
}

// TestEmitLandlock: emit --format landlock writes the ruleset of the
// recordings' merged landlock sections; a recording without one, or a
// seccomp-only flag, is a one-line error and no output.
func TestEmitLandlock(t *testing.T) {
	dir := t.TempDir()
	a := writeRecording(t, dir, "a.json", withLandlock(8080, "/srv/a/1", "/srv/a/2"))
	b := writeRecording(t, dir, "b.json", withLandlock(8443, "/srv/a/3", "/srv/a/4", "/etc/app.conf"))
	out := filepath.Join(dir, "ruleset.json")
	res := runProfgen(t, dir, "emit", "--format", "landlock", "-o", out, a, b)
	if res.code != 0 {
		t.Fatalf("emit: %d %s", res.code, res.stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	r, err := landlock.ParseConfig(data)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, rule := range r.Rules {
		got = append(got, rule.Path+" "+strings.Join(rule.Rights, ","))
	}
	if strings.Join(got, "; ") != "/etc/app.conf read_file; /srv/a read_file,read_dir" {
		t.Errorf("rules: %v", got)
	}
	if len(r.Bind) != 2 || r.Bind[0] != 8080 || r.Bind[1] != 8443 {
		t.Errorf("bind ports %v", r.Bind)
	}
	if !strings.Contains(res.stderr, "note: landlock: 4 entries read (1, 2, 3, 4): read beneath /srv/a") {
		t.Errorf("no note of the hierarchy:\n%s", res.stderr)
	}

	none := writeRecording(t, dir, "none.json", nil)
	bad := filepath.Join(dir, "bad.json")
	for _, args := range [][]string{
		{"emit", "--format", "landlock", "-o", bad, none},
		{"emit", "--format", "landlock", "--arch", "x86_64", "-o", bad, a},
		{"emit", "--format", "landlock", "--runtime", "runc", "-o", bad, a},
	} {
		res := runProfgen(t, dir, args...)
		if res.code == 0 || strings.Count(strings.TrimSpace(res.stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, want one line:\n%s", args, res.code, res.stderr)
		}
		if _, err := os.Stat(bad); err == nil {
			t.Errorf("%v: wrote %s", args, bad)
		}
	}
	if res := runProfgen(t, dir, "emit", "--format", "landlock", "-o", bad, none); !strings.Contains(res.stderr, "no landlock section: record with the eBPF backend") {
		t.Errorf("no section: %s", res.stderr)
	}
}

// TestEmitCodeLandlock: the c and go outputs of a recording with a
// landlock section apply its ruleset; without a section they do not.
func TestEmitCodeLandlock(t *testing.T) {
	dir := t.TempDir()
	with := writeRecording(t, dir, "with.json", withLandlock(8080, "/srv/a/1"))
	without := writeRecording(t, dir, "without.json", nil)
	for _, c := range []struct{ format, marker string }{{"c", "profgen_apply_landlock"}, {"go", "func RestrictLandlock() error"}} {
		res := runProfgen(t, dir, "emit", "--format", c.format, with)
		if res.code != 0 || !strings.Contains(res.stdout, c.marker) || !strings.Contains(res.stdout, `"/srv/a/1"`) {
			t.Errorf("%s with a section: exit %d %s", c.format, res.code, res.stderr)
		}
		res = runProfgen(t, dir, "emit", "--format", c.format, without)
		if res.code != 0 || strings.Contains(res.stdout, c.marker) {
			t.Errorf("%s without a section: exit %d %s", c.format, res.code, res.stderr)
		}
	}
}
