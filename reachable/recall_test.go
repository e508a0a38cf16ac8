package reachable

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/profgen/profgen/internal/workload"
)

// analyze runs Analyze with a cache of the test's own.
func analyze(t *testing.T, exe string) *Program {
	t.Helper()
	p, err := Analyze(exe, Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatalf("Analyze(%s): %v", exe, err)
	}
	return p
}

// checkRecall fails for every syscall strace saw that the analysis does not
// call reachable, apart from KernelMade calls and the launcher's execve.
func checkRecall(t *testing.T, p *Program, seen map[string]int) {
	t.Helper()
	reach := map[string]bool{}
	for _, s := range p.Syscalls {
		reach[s] = true
	}
	var missed []string
	for s := range seen {
		if !reach[s] && KernelMade(s) == "" && s != "execve" {
			missed = append(missed, s)
		}
	}
	sort.Strings(missed)
	if len(missed) > 0 {
		t.Errorf("%s: strace saw %v, not in reachable (%d syscalls, %d undetermined, notes %q)",
			p.Path, missed, len(p.Syscalls), p.Undetermined, p.Notes)
	}
	if len(seen) < 5 {
		t.Errorf("strace saw only %v: the drive did not run", seen)
	}
	t.Logf("%s: %d reachable, %d seen, %d undetermined", p.Path, len(p.Syscalls), len(seen), p.Undetermined)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// dial connects to a server that is starting, for up to 10 s.
func dial(t *testing.T, port int) net.Conn {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.SetDeadline(time.Now().Add(10 * time.Second))
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("server on port %d: %v", port, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// exchange writes req and reads until the reply contains want.
func exchange(t *testing.T, c net.Conn, req, want string) {
	t.Helper()
	if _, err := c.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	var got strings.Builder
	for !strings.Contains(got.String(), want) {
		line, err := r.ReadString('\n')
		got.WriteString(line)
		if err != nil {
			t.Fatalf("reply to %q: %q, %v", req, got.String(), err)
		}
	}
}

// straceServer runs argv under strace, drives it, stops it with SIGTERM and
// returns what strace saw.
func straceServer(t *testing.T, argv []string, drive func()) map[string]int {
	t.Helper()
	run, err := workload.StartStrace(t, argv)
	if err != nil {
		t.Fatal(err)
	}
	drive()
	if err := run.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	seen, err := run.Wait()
	if err != nil {
		t.Logf("%s: %v", argv[0], err)
	}
	return seen
}

func need(t *testing.T, exe string) string {
	t.Helper()
	p, err := exec.LookPath(exe)
	if err != nil {
		t.Fatalf("%s: %v (scripts/deps.sh installs it)", exe, err)
	}
	return p
}

func TestRecallWorkloads(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"manycalls/manycalls.c", []string{"100"}},
		{"rwloop/rwloop.c", []string{"100"}},
		{"argshapes/argshapes.c", nil},
		{"envprobe/envprobe.c", []string{"--return-memory"}},
		{"multiproc/threads.c", nil},
		{"manyshapes/manyshapes.c", []string{"10"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exe := workload.Build(t, tc.name)
			seen, err := workload.Strace(t, append([]string{exe}, tc.args...))
			if err != nil {
				t.Fatal(err)
			}
			checkRecall(t, analyze(t, exe), seen)
		})
	}
}

func TestRecallGoWorkload(t *testing.T) {
	server, driver := workload.Build(t, "httpserver"), workload.Build(t, "httpserver/driver")
	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	seen := straceServer(t, []string{server, "--addr", addr}, func() {
		dial(t, port).Close()
		if out, err := exec.Command(driver, "--addr", addr, "--rounds", "2").CombinedOutput(); err != nil {
			t.Fatalf("driver: %v: %s", err, out)
		}
	})
	p := analyze(t, server)
	checkRecall(t, p, seen)
}

func TestRecallRedis(t *testing.T) {
	exe := need(t, "redis-server")
	port := freePort(t)
	dir := t.TempDir()
	seen := straceServer(t, []string{exe, "--port", fmt.Sprint(port), "--save", "", "--appendonly", "no", "--dir", dir}, func() {
		c := dial(t, port)
		defer c.Close()
		exchange(t, c, "SET k v\r\n", "+OK")
		exchange(t, c, "GET k\r\n", "v")
		exchange(t, c, "INCR n\r\n", ":1")
	})
	p := analyze(t, exe)
	checkRecall(t, p, seen)
	// The persistence path the drive never took is reachable but unseen.
	unseen := map[string]bool{}
	for _, s := range p.Syscalls {
		if seen[s] == 0 {
			unseen[s] = true
		}
	}
	if !unseen["fsync"] && !unseen["fdatasync"] {
		t.Errorf("unseen lacks fsync and fdatasync")
	}
	if !unseen["rename"] && !unseen["renameat"] && !unseen["renameat2"] {
		t.Errorf("unseen lacks rename")
	}
}

func TestRecallMemcached(t *testing.T) {
	exe := need(t, "memcached")
	port := freePort(t)
	seen := straceServer(t, []string{exe, "-p", fmt.Sprint(port), "-U", "0", "-l", "127.0.0.1", "-u", "root"}, func() {
		c := dial(t, port)
		defer c.Close()
		exchange(t, c, "set k 0 0 1\r\nv\r\n", "STORED")
		exchange(t, c, "get k\r\n", "END")
	})
	checkRecall(t, analyze(t, exe), seen)
}

func TestRecallNginx(t *testing.T) {
	exe := need(t, "nginx")
	port := freePort(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`daemon off; master_process on; worker_processes 1; user root;
error_log %[1]s/logs/error.log; pid %[1]s/nginx.pid;
events { worker_connections 64; }
http { access_log %[1]s/logs/access.log; client_body_temp_path %[1]s/tmp; proxy_temp_path %[1]s/tmp;
  fastcgi_temp_path %[1]s/tmp; uwsgi_temp_path %[1]s/tmp; scgi_temp_path %[1]s/tmp;
  server { listen 127.0.0.1:%[2]d; root %[1]s; } }
`, dir, port)
	if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	seen := straceServer(t, []string{exe, "-p", dir, "-c", conf, "-e", filepath.Join(dir, "logs/error.log")}, func() {
		for i := 0; i < 2; i++ {
			c := dial(t, port)
			exchange(t, c, "GET /index.html HTTP/1.0\r\n\r\n", "hello")
			c.Close()
		}
	})
	checkRecall(t, analyze(t, exe), seen)
}

func TestRecallGoBinaryRuntime(t *testing.T) {
	// A Go binary's own runtime makes its calls through syscall
	// instructions with constant numbers and the syscall.Syscall family:
	// the test binary itself is one.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p := analyze(t, exe)
	reach := map[string]bool{}
	for _, s := range p.Syscalls {
		reach[s] = true
	}
	for _, s := range []string{"mmap", "munmap", "futex", "clone", "rt_sigaction", "rt_sigprocmask", "sigaltstack",
		"sched_yield", "exit_group", "gettid", "tgkill", "madvise", "openat", "read", "write", "epoll_pwait", "nanosleep"} {
		if !reach[s] {
			t.Errorf("Go runtime call %s not reachable in %s (%d: %v)", s, exe, len(p.Syscalls), p.Syscalls)
		}
	}
}

func TestRecallPostgres(t *testing.T) {
	bins, err := filepath.Glob("/usr/lib/postgresql/*/bin")
	if err != nil || len(bins) == 0 {
		t.Fatalf("postgresql: no /usr/lib/postgresql/*/bin (scripts/deps.sh installs it)")
	}
	bin := bins[len(bins)-1]
	setpriv := need(t, "setpriv")
	psql := need(t, "psql")
	// postgres refuses to run as root: initdb and the server run as the
	// postgres user, through setpriv (no PAM, no dlopen: strace names no
	// file loaded; through runuser, whose PAM modules a recording names,
	// cmd/profgen's TestReachablePostgresRunuser).
	asPostgres := []string{setpriv, "--reuid=postgres", "--regid=postgres", "--clear-groups", "--"}
	dir := t.TempDir()
	// The postgres user reaches it through the test's own directory.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := exec.Command(asPostgres[0], append(asPostgres[1:], filepath.Join(bin, "initdb"), "-D", data, "--auth=trust")...).CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v: %s", err, out)
	}
	port := freePort(t)
	seen := straceServer(t, append(asPostgres, filepath.Join(bin, "postgres"), "-D", data, "-p", fmt.Sprint(port), "-k", dir,
		"-c", "listen_addresses=127.0.0.1"), func() {
		dial(t, port).Close()
		sql := "CREATE TABLE t (a int); INSERT INTO t VALUES (1); SELECT * FROM t;"
		if out, err := exec.Command(psql, "-h", "127.0.0.1", "-p", fmt.Sprint(port), "-U", "postgres", "-c", sql).CombinedOutput(); err != nil {
			t.Fatalf("psql: %v: %s", err, out)
		}
	})
	// What strace saw is setpriv's and postgres's: both are analysed.
	server, helper := analyze(t, filepath.Join(bin, "postgres")), analyze(t, setpriv)
	union := &Program{Path: server.Path + " (and " + helper.Path + ")", Undetermined: server.Undetermined + helper.Undetermined,
		Notes: append(server.Notes, helper.Notes...)}
	set := map[string]bool{}
	for _, s := range append(server.Syscalls, helper.Syscalls...) {
		if !set[s] {
			set[s] = true
			union.Syscalls = append(union.Syscalls, s)
		}
	}
	checkRecall(t, union, seen)
}
