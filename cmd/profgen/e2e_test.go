package main

import (
	"encoding/json"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/profgen/profgen/internal/enginetest"
	"github.com/profgen/profgen/internal/workload"
	"github.com/profgen/profgen/replay"
)

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// TestEndToEndHTTPServerRunc is issue 2's end to end: record the Go HTTP
// server while its driver runs, emit an OCI profile, and run the same
// server and driver inside runc under that profile: the driver succeeds
// and no syscall is denied. Then the same with accept4 (which net/http
// calls for every connection) removed from the profile must fail and name
// accept4: the check can fail.
func TestEndToEndHTTPServerRunc(t *testing.T) {
	server := workload.Build(t, "httpserver")
	driver := workload.Build(t, "httpserver/driver")
	dir := t.TempDir()
	addr := "127.0.0.1:" + freePort(t)
	drive := driver + " --addr " + addr
	serve := []string{"--", server, "--addr", addr}

	r := runProfgen(t, dir, append([]string{"record", "-o", "rec.json", "--ready", "tcp:" + addr, "--drive", drive}, serve...)...)
	if r.code != 0 {
		t.Fatalf("record: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	r = runProfgen(t, dir, "emit", "--format", "oci", "-o", "p.json", "rec.json")
	if r.code != 0 {
		t.Fatalf("emit: exit %d: %s", r.code, r.stderr)
	}

	replayArgs := func(profile string) []string {
		return append([]string{"replay", "--json", "--runtime", "runc", "--profile", profile, "--ready", "tcp:" + addr, "--drive", drive}, serve...)
	}
	report := func(r result) *replay.Report {
		t.Helper()
		var rep replay.Report
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("replay: exit %d, no JSON report (%v)\nstdout: %s\nstderr: %s", r.code, err, r.stdout, r.stderr)
		}
		return &rep
	}

	r = runProfgen(t, dir, replayArgs("p.json")...)
	rep := report(r)
	if r.code != 0 || !rep.OK() || rep.ExitCode != 0 {
		t.Errorf("replay under the learned profile: exit %d, driver exit %d, denied %+v\nstderr: %s", r.code, rep.ExitCode, rep.Violations, r.stderr)
	}
	if !strings.Contains(r.stderr, "rounds ok") {
		t.Errorf("the driver did not report success; stderr: %s", r.stderr)
	}

	enginetest.WithoutSyscall(t, filepath.Join(dir, "p.json"), filepath.Join(dir, "broken.json"), "accept4")
	r = runProfgen(t, dir, replayArgs("broken.json")...)
	rep = report(r)
	var denied []string
	for _, v := range rep.Violations {
		denied = append(denied, v.Syscall)
	}
	if r.code != 1 || !slices.Equal(denied, []string{"accept4"}) {
		t.Errorf("replay without accept4: exit %d, denied %v; want exit 1 and exactly accept4 denied\nstderr: %s", r.code, denied, r.stderr)
	}
	// Enforced, the server cannot accept a connection: the driver fails.
	if rep.ExitCode == 0 {
		t.Errorf("replay without accept4: the driver succeeded under the enforced profile (notes %q)", rep.Notes)
	}

	// The text report names the denied call too.
	args := replayArgs("broken.json")
	args = slices.DeleteFunc(args, func(s string) bool { return s == "--json" })
	r = runProfgen(t, dir, args...)
	if r.code != 1 || !strings.Contains(r.stdout, "accept4") || !strings.Contains(r.stdout, "FAIL") {
		t.Errorf("text replay without accept4: exit %d, stdout %q", r.code, r.stdout)
	}
}
