package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/profgen/profgen/recording"
)

// TestRecordDurationNormalEnd: --duration is a stop the user asked for:
// exit 0, the recording written and not marked interrupted, the summary
// says where it stopped; the recording keeps the target's own status.
// With --drive too: the driver stopped at the duration did not fail.
func TestRecordDurationNormalEnd(t *testing.T) {
	for _, drive := range []string{"", "sleep 100"} {
		dir := t.TempDir()
		args := []string{"record", "-o", "rec.json", "--duration", "300ms"}
		if drive != "" {
			args = append(args, "--drive", drive)
		}
		r := runProfgen(t, dir, append(args, "--", "sleep", "100")...)
		if r.code != 0 {
			t.Errorf("drive %q: exit %d, want 0; stderr %q", drive, r.code, r.stderr)
			continue
		}
		if !strings.Contains(r.stderr, "(stopped at --duration 300ms)") {
			t.Errorf("drive %q: summary does not say the recording stopped at --duration: %q", drive, r.stderr)
		}
		rec, err := recording.ReadFile(filepath.Join(dir, "rec.json"))
		if err != nil {
			t.Fatal(err)
		}
		if rec.Interrupted || rec.Exit.Signal != "SIGTERM" {
			t.Errorf("drive %q: interrupted %v, exit %+v; want not interrupted, the target's SIGTERM kept", drive, rec.Interrupted, rec.Exit)
		}
	}
}
