package main

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/profgen/profgen/recording"
	"github.com/profgen/profgen/trace"
)

// TestRecordLandlockFlag: record writes the landlock section by default
// with the ebpf backend (the file the command read in it, by its path),
// none with --landlock=false; the log backend's recording carries the
// note that it records no paths only when --landlock was given.
func TestRecordLandlockFlag(t *testing.T) {
	dir := t.TempDir()
	argv := []string{"--", "/bin/cat", "/etc/hostname"}
	for _, c := range []struct {
		name    string
		flags   []string
		section bool
		note    bool
	}{
		{"ebpf", nil, true, false},
		{"ebpf-off", []string{"--landlock=false"}, false, false},
		{"log", []string{"--backend", "log"}, false, false},
		{"log-asked", []string{"--backend", "log", "--landlock"}, false, true},
	} {
		out := filepath.Join(dir, c.name+".json")
		args := append(append([]string{"record", "-o", out}, c.flags...), argv...)
		if res := runProfgen(t, dir, args...); res.code != 0 {
			t.Fatalf("%s: exit %d\n%s", c.name, res.code, res.stderr)
		}
		rec, err := recording.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		raw, ok := rec.Sections[recording.LandlockKind]
		if ok != c.section {
			t.Errorf("%s: landlock section %v, want %v (notes %q)", c.name, ok, c.section, rec.Notes)
		}
		if ok {
			sec, err := recording.ParseLandlock(raw)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, a := range sec.Accesses {
				found = found || (a.Path == "/etc/hostname" && a.Right == "read_file" && a.OK == 1)
			}
			if !found {
				t.Errorf("%s: /etc/hostname read_file not recorded once: %+v", c.name, sec.Accesses)
			}
		}
		if got := slices.Contains(rec.Notes, trace.NoPathsNote); got != c.note {
			t.Errorf("%s: the log backend's no-paths note %v, want %v: %q", c.name, got, c.note, rec.Notes)
		}
	}
}
