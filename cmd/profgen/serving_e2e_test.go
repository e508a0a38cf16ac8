package main

import (
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/profgen/profgen/internal/workload"
)

// TestServingServerEnterServing is issue 19's bundled server with
// EnterServing: the servingserver workload is recorded with --ready while
// its own client drives it, emit --format go writes the filter file (which
// offers EnterServing), and the server built with it (tag
// profgen_filter) installs the filter at start and stacks the serving
// filter after listen. It serves the same drive, and GET /exec, whose
// execve the full filter allows (the recording's start-up made one), is
// denied with EPERM; the server keeps serving and stops cleanly.
func TestServingServerEnterServing(t *testing.T) {
	plain := workload.Build(t, "servingserver")
	dir := t.TempDir()
	addr := "127.0.0.1:" + freePort(t)
	r := runProfgen(t, dir, "record", "-o", "rec.json", "--ready", "tcp:"+addr,
		"--drive", plain+" --drive --addr "+addr, "--", plain, "--addr", addr)
	if r.code != 0 {
		t.Fatalf("record: exit %d: %s", r.code, r.stderr)
	}
	if r = runProfgen(t, dir, "emit", "-q", "--format", "go", "-o", "filter.go", "rec.json"); r.code != 0 {
		t.Fatalf("emit --format go: exit %d: %s", r.code, r.stderr)
	}
	src, err := os.ReadFile(filepath.Join(dir, "filter.go"))
	if err != nil {
		t.Fatal(err)
	}
	full, serving, ok := strings.Cut(string(src), "func EnterServing() error")
	if !ok {
		t.Fatalf("no EnterServing in the go output:\n%s", src)
	}
	if !strings.Contains(full, "//	execve: allow") || strings.Contains(serving, "//	execve: allow") {
		t.Fatalf("execve: want it allowed by the full filter and not by the serving one:\n%s", src)
	}
	bin := workload.BuildGoWith(t, "servingserver", "profgen_filter", map[string][]byte{"seccompprofile/filter.go": src})

	addr = "127.0.0.1:" + freePort(t)
	// The server's standard error, a file: read while the server runs.
	stderr := serverLog(filepath.Join(dir, "server.log"))
	f, err := os.Create(string(stderr))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	srv := exec.Command(bin, "--addr", addr)
	srv.Stderr = f
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- srv.Wait() }()
	t.Cleanup(func() {
		srv.Process.Kill()
		<-exited
	})
	waitListening(t, addr, exited, stderr)
	if out, err := exec.Command(plain, "--drive", "--addr", addr).CombinedOutput(); err != nil {
		t.Fatalf("the drive against the filtered server: %v\n%s\nserver: %s", err, out, stderr.String())
	}
	resp, err := http.Get("http://" + addr + "/exec")
	if err != nil {
		t.Fatalf("GET /exec: %v (the server was replaced or died?)\nserver: %s", err, stderr.String())
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "execve: operation not permitted") {
		t.Errorf("GET /exec: %s %q, want 403 execve: operation not permitted", resp.Status, body)
	}
	if out, err := exec.Command(plain, "--drive", "--rounds", "1", "--addr", addr).CombinedOutput(); err != nil {
		t.Errorf("the drive after /exec: %v\n%s", err, out)
	}
	if !strings.Contains(stderr.String(), "(filter: profgen)") {
		t.Errorf("the server built with the filter says: %s", stderr.String())
	}
	srv.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		exited <- err
		if err != nil {
			t.Errorf("the filtered server after SIGTERM: %v\n%s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Errorf("the filtered server did not stop on SIGTERM")
	}
}

// waitListening waits until addr accepts connections, failing t when the
// server exits first (exited) or after 10 s.
func waitListening(t *testing.T, addr string, exited chan error, stderr serverLog) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("the server exited before listening: %v\n%s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server does not listen on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// serverLog is the file a server writes its standard error to.
type serverLog string

// String is what the server wrote so far.
func (l serverLog) String() string {
	b, err := os.ReadFile(string(l))
	if err != nil {
		return err.Error()
	}
	return string(b)
}
