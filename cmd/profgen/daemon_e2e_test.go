package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/profgen/profgen/internal/exitcode"
	"github.com/profgen/profgen/internal/workload"
	"github.com/profgen/profgen/recording"
)

// writeHTTPDrive writes a bash script into dir that makes n HTTP/1.0
// requests for path to 127.0.0.1:port (bash's /dev/tcp: no client to
// install) and fails unless every answer holds want; it returns the
// command that runs it. Each request is sent in one write (cat of a file;
// bash's printf writes in pieces), the odd ones 50 ms after the connection
// was made: a server's first read then finds nothing, as it does under a
// slower client, so both paths of its read are recorded whatever the
// timing (apache polls the socket on the first, and a replay that took that
// path but never recorded it would be denied poll).
func writeHTTPDrive(t *testing.T, dir string, port, n int, path, want string) string {
	t.Helper()
	req := filepath.Join(dir, "request.txt")
	if err := os.WriteFile(req, []byte("GET "+path+" HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	script := fmt.Sprintf(`#!/bin/bash
for i in $(seq %d); do
	exec 3<>/dev/tcp/127.0.0.1/%d || exit 1
	[ $((i %% 2)) = 1 ] && sleep 0.05
	cat %q >&3
	r=$(cat <&3)
	exec 3<&-
	case "$r" in
	*%q*) ;;
	*) echo "drive: request $i: unexpected reply: $r" >&2; exit 1 ;;
	esac
done
`, n, port, req, want)
	p := filepath.Join(dir, "drive.sh")
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// assertNotServing fails if something still accepts connections on port.
func assertNotServing(t *testing.T, port int) {
	t.Helper()
	if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second); err == nil {
		c.Close()
		t.Errorf("something still serves on port %d after profgen exited", port)
	}
}

// recordReplayDaemon records command (a server that daemonises) with
// --ready and --drive, checks the recording holds want, emits its profile
// and replays it with --runtime none, ready and driven the same way: no
// denial.
func recordReplayDaemon(t *testing.T, dir string, port int, drive string, command []string, want []string) *recording.Recording {
	t.Helper()
	ready := "tcp:127.0.0.1:" + strconv.Itoa(port)
	args := append([]string{"record", "-o", "rec.json", "--ready", ready, "--drive", drive, "--"}, command...)
	r := runProfgen(t, dir, args...)
	if r.code != 0 {
		t.Fatalf("profgen %s: exit %d\nstderr: %s", strings.Join(args, " "), r.code, r.stderr)
	}
	assertNotServing(t, port)
	rec, err := recording.ReadFile(filepath.Join(dir, "rec.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range want {
		if rec.Lookup(name) == nil {
			t.Errorf("%s of the server not recorded: %v", name, rec.Names())
		}
	}
	if rec.Interrupted || rec.Exit.Code != 0 || rec.Exit.Signal != "" {
		t.Errorf("interrupted %v, exit %+v; want a normal end with the first process's status 0", rec.Interrupted, rec.Exit)
	}
	if !slices.ContainsFunc(rec.Notes, func(n string) bool { return strings.Contains(n, "daemonised") }) {
		t.Errorf("no note says the first process exited while its tree ran on: %q", rec.Notes)
	}

	if r := runProfgen(t, dir, "emit", "-o", "profile.json", "rec.json"); r.code != 0 {
		t.Fatalf("emit: exit %d: %s", r.code, r.stderr)
	}
	args = append([]string{"replay", "--runtime", "none", "--profile", "profile.json", "--ready", ready, "--drive", drive, "--"}, command...)
	r = runProfgen(t, dir, args...)
	if r.code != exitcode.OK {
		t.Errorf("profgen %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	assertNotServing(t, port)
	return rec
}

// TestRecordReplayDaemonWorkload: the bundled tcpdaemon (its first process
// exits 0 at once, a setsid grandchild serves 200 ms later) is recorded
// and replayed with --ready and --drive.
func TestRecordReplayDaemonWorkload(t *testing.T) {
	bin := workload.Build(t, "tcpdaemon")
	dir := t.TempDir()
	port, _ := strconv.Atoi(freePort(t))
	drive := writeHTTPDrive(t, dir, port, 3, "/", "ok")
	rec := recordReplayDaemon(t, dir, port, drive, []string{bin, strconv.Itoa(port)},
		[]string{"setsid", "bind", "listen", "accept4"})
	if sc := rec.Lookup("getppid"); sc == nil || sc.Count != 21 {
		t.Errorf("getppid %+v, want 21 calls (7 for each of 3 requests)", sc)
	}
}

// TestRecordReplayApache: Debian's apache2 in its default daemon mode
// (the first process exits once the server forked into the background) is
// recorded and replayed with --ready and --drive, and its recording holds
// the serving calls of its workers.
func TestRecordReplayApache(t *testing.T) {
	apache, err := exec.LookPath("apache2")
	if err != nil {
		if apache, err = exec.LookPath("/usr/sbin/apache2"); err != nil {
			t.Fatalf("apache2 (Debian's apache2-bin package; scripts/deps.sh installs it): %v", err)
		}
	}
	dir := t.TempDir()
	port, _ := strconv.Atoi(freePort(t))
	root := filepath.Join(dir, "apache")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(root, "httpd.conf")
	mods := "/usr/lib/apache2/modules"
	// The workers run as nobody: the document must be readable by all,
	// and so the test's directories above it.
	for d := root; d != filepath.Dir(filepath.Dir(dir)); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "index.html"), []byte("served by apache\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	text := fmt.Sprintf(`ServerRoot %[1]s
ServerName 127.0.0.1
PidFile %[1]s/httpd.pid
ErrorLog %[1]s/error.log
DefaultRuntimeDir %[1]s
Mutex file:%[1]s
Listen 127.0.0.1:%[2]d
LoadModule mpm_event_module %[3]s/mod_mpm_event.so
LoadModule authz_core_module %[3]s/mod_authz_core.so
DocumentRoot %[1]s
<Directory />
	AllowOverride None
	Require all granted
</Directory>
User nobody
Group nogroup
`, root, port, mods)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	drive := writeHTTPDrive(t, dir, port, 5, "/index.html", "served by apache")
	recordReplayDaemon(t, dir, port, drive, []string{apache, "-f", conf},
		[]string{"bind", "listen", "accept4", "epoll_wait", "clone3"})
	if log, err := os.ReadFile(filepath.Join(root, "error.log")); err == nil && t.Failed() {
		t.Logf("apache's error log:\n%s", log)
	}
	// Stopped through its own shutdown (SIGTERM): the pid file is gone.
	if _, err := os.Stat(filepath.Join(root, "httpd.pid")); err == nil {
		t.Errorf("apache's pid file is left: it was not stopped in order")
	}
}
