package trace

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/profgen/profgen/internal/workload"
)

// httpDrive is a shell command that makes n HTTP/1.0 requests to
// 127.0.0.1:port through bash's /dev/tcp and fails unless each is
// answered "ok".
func httpDrive(port, n int) string {
	return fmt.Sprintf(`bash -c 'for i in $(seq %d); do exec 3<>/dev/tcp/127.0.0.1/%d || exit 1; printf "GET / HTTP/1.0\r\n\r\n" >&3; r=$(cat <&3); exec 3<&-; case "$r" in *ok*) ;; *) echo "bad reply: $r" >&2; exit 1;; esac; done'`, n, port)
}

// TestRecordDaemonReady: a server that daemonises (its first process exits
// 0 at once, a setsid grandchild listens 200 ms later) is ready when the
// tree accepts connections, not gone when its first process is; the
// driver's requests are served and recorded, and the tree is stopped
// after the driver. In a cgroup and in process-tree mode.
func TestRecordDaemonReady(t *testing.T) {
	bin := workload.Build(t, "tcpdaemon")
	for _, tree := range []bool{false, true} {
		t.Run("tree="+strconv.FormatBool(tree), func(t *testing.T) {
			port := freePort(t)
			res := record(t, Options{
				Command:  []string{bin, strconv.Itoa(port)},
				Ready:    "tcp:127.0.0.1:" + strconv.Itoa(port),
				Drive:    httpDrive(port, 3),
				NoCgroup: tree,
			})
			if res.DriverErr != nil || res.ExitCode != 0 {
				t.Fatalf("driver: %v (exit %d)", res.DriverErr, res.ExitCode)
			}
			r := res.Recording
			for _, name := range []string{"setsid", "bind", "listen", "accept4"} {
				if r.Lookup(name) == nil {
					t.Errorf("%s of the daemon not recorded: %v", name, r.Names())
				}
			}
			// 3 requests, 7 getppid each; the probe of --ready sends
			// nothing and is not answered.
			if got := count(t, r, "getppid"); got != 21 {
				t.Errorf("getppid count = %d, want 21 (7 per request)", got)
			}
			if r.Interrupted || r.Exit.Code != 0 {
				t.Errorf("interrupted %v, exit %+v; want a normal end, the first process's status 0", r.Interrupted, r.Exit)
			}
			if !slices.ContainsFunc(r.Notes, func(n string) bool { return strings.Contains(n, "daemonised") }) {
				t.Errorf("no note says the first process exited while its tree ran on: %q", r.Notes)
			}
			// Stopped: nothing listens any more.
			if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second); err == nil {
				c.Close()
				t.Errorf("the daemon still serves on %d after Record returned", port)
			}
		})
	}
}

// TestRecordDaemonDelayReady: delay readiness waits on the tree too.
func TestRecordDaemonDelayReady(t *testing.T) {
	bin := workload.Build(t, "tcpdaemon")
	port := freePort(t)
	res := record(t, Options{
		Command: []string{bin, strconv.Itoa(port), "0"},
		Ready:   "delay:500ms",
		Drive:   httpDrive(port, 1),
	})
	if res.DriverErr != nil {
		t.Fatalf("driver: %v", res.DriverErr)
	}
	if got := count(t, res.Recording, "getppid"); got != 7 {
		t.Errorf("getppid count = %d, want 7", got)
	}
}

// TestRecordDaemonGoneBeforeReady: a tree that ends without ever
// listening fails the wait once its last process ended (the daemon's
// marker file exists by then), not when its first process exited.
func TestRecordDaemonGoneBeforeReady(t *testing.T) {
	daemon := workload.Build(t, "multiproc/daemon.c")
	marker := filepath.Join(t.TempDir(), "marker")
	port := freePort(t)
	e := newTestEBPF(t, EBPFOptions{})
	_, err := Record(context.Background(), Options{
		Command: []string{daemon, marker, "300"},
		Backend: e,
		Ready:   "tcp:127.0.0.1:" + strconv.Itoa(port),
		Drive:   "true",
		Stdout:  os.Stdout,
		Stderr:  os.Stderr,
	})
	if !errors.Is(err, errTargetGone) {
		t.Fatalf("Record: %v, want %v", err, errTargetGone)
	}
	if !strings.Contains(err.Error(), "first process exited with status 0") {
		t.Errorf("error %q does not say how the first process ended", err)
	}
	if _, serr := os.Stat(marker); serr != nil {
		t.Errorf("the wait ended before the daemon did: %v", serr)
	}
	assertNoCgroups(t, os.Getpid())
}
