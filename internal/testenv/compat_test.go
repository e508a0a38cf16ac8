package testenv

import (
	"os/exec"
	"strings"
	"testing"
)

// TestI386Missing: a probe that dies of SIGSEGV means no i386 entry (skip,
// with the reason); one that exits 0 means the entry works; any other
// failure is an error, not a skip.
func TestI386Missing(t *testing.T) {
	for _, tc := range []struct {
		script      string
		skip, error bool
	}{
		{"exit 0", false, false},
		{"kill -SEGV $$", true, false},
		{"exit 1", false, true},
		{"kill -ABRT $$", false, true},
	} {
		cmd := exec.Command("sh", "-c", tc.script)
		reason, err := i386Missing(cmd, cmd.Run())
		if (reason != "") != tc.skip || (err != nil) != tc.error {
			t.Errorf("%s: reason %q, error %v", tc.script, reason, err)
		}
		if tc.skip && !strings.Contains(reason, "ia32 emulation off") {
			t.Errorf("%s: reason %q does not say why", tc.script, reason)
		}
	}
	// This machine: the probe runs (skips only where the entry is off).
	I386Entry(t)
}
