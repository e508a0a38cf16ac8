package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMonitorMetricsBadAddress: an address --metrics cannot listen on is
// one line on standard error, before monitoring, and leaves no -o file.
func TestMonitorMetricsBadAddress(t *testing.T) {
	dir := t.TempDir()
	for _, addr := range []string{"127.0.0.1:notaport", "256.1.1.1:9464"} {
		r := runProfgen(t, dir, "monitor", "--metrics", addr, "-o", "m.json")
		if r.code == 0 || !strings.HasPrefix(r.stderr, "profgen: --metrics: ") || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("monitor --metrics %s: exit %d, stderr %q, want one line naming --metrics", addr, r.code, r.stderr)
		}
		if _, err := os.Stat(filepath.Join(dir, "m.json")); !os.IsNotExist(err) {
			t.Errorf("monitor --metrics %s left -o m.json: %v", addr, err)
		}
	}
}
