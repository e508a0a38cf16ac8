package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/profgen/profgen/recording"
)

// TestDockerEarlyExit: a container run through dockerd whose entrypoint
// exits 3 at once is recorded with exit code 3 and flagged as a failed
// start (containerd-shim, not the recorder, is its parent).
func TestDockerEarlyExit(t *testing.T) {
	d := needDocker(t)
	cidfile := filepath.Join(t.TempDir(), "cid")
	args := append([]string{"run", "--rm", "--runtime", "profgen", "--cidfile", cidfile}, dockerRunArgs("/usr/bin/x", t.TempDir())...)
	if code, outp := runCmd(t, d.run(append(args, testImage, "/bin/sh", "-c", "exit 3")...)); code != 3 {
		t.Fatalf("docker run of exit 3: exit %d\n%s", code, outp)
	}
	cid, _ := os.ReadFile(cidfile)
	rec, err := recording.ReadFile(filepath.Join(d.recDir, strings.TrimSpace(string(cid))+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if rec.Exit.Code != 3 {
		t.Errorf("exit %+v, want code 3", rec.Exit)
	}
	if !slices.ContainsFunc(rec.Notes, func(n string) bool {
		return strings.Contains(n, "entrypoint exited with status 3") && strings.Contains(n, "failed start")
	}) {
		t.Errorf("no note of the failed start: %q", rec.Notes)
	}
}
