package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/profgen/profgen/internal/workload"
	"github.com/profgen/profgen/readers"
)

// TestPhaseServingHTTPServer: the Go HTTP server recorded with --ready and
// its driver; emit --phase serving leaves out what only start-up did
// (execve, bind, listen) and keeps accept4, and emit --format go offers
// EnterServing.
func TestPhaseServingHTTPServer(t *testing.T) {
	server := workload.Build(t, "httpserver")
	driver := workload.Build(t, "httpserver/driver")
	dir := t.TempDir()
	addr := "127.0.0.1:" + freePort(t)
	r := runProfgen(t, dir, "record", "-o", "rec.json", "--ready", "tcp:"+addr, "--drive", driver+" --addr "+addr, "--", server, "--addr", addr)
	if r.code != 0 {
		t.Fatalf("record: exit %d: %s", r.code, r.stderr)
	}
	if r = runProfgen(t, dir, "emit", "-q", "--phase", "serving", "-o", "serving.json", "rec.json"); r.code != 0 {
		t.Fatalf("emit --phase serving: exit %d: %s", r.code, r.stderr)
	}
	p, err := readers.ReadOCIFile(filepath.Join(dir, "serving.json"))
	if err != nil {
		t.Fatal(err)
	}
	allowed := p.Allowed()
	for _, s := range []string{"execve", "bind", "listen"} {
		if slices.Contains(allowed, s) {
			t.Errorf("the serving profile allows %s: %v", s, allowed)
		}
	}
	if !slices.Contains(allowed, "accept4") {
		t.Errorf("the serving profile does not allow accept4: %v", allowed)
	}
	if r = runProfgen(t, dir, "emit", "-q", "--format", "go", "rec.json"); r.code != 0 || !strings.Contains(r.stdout, "func EnterServing() error") {
		t.Errorf("emit --format go: exit %d, no EnterServing; stderr %s", r.code, r.stderr)
	}
}
