package trace

import (
	"context"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/profgen/profgen/internal/workload"
	"github.com/profgen/profgen/recording"
)

// TestRecordPaths records a shell that opens files by absolute, relative,
// `..` and symlinked paths, makes and removes a directory, fails to open a
// missing file, runs a script and the pathops workload (an openat relative
// to a directory descriptor, a file created then deleted, a rename into
// another directory, a TCP bind and connect, an abstract UNIX connect) and
// signals process 1 and itself, with EBPFOptions.Paths.
// Where the kernel runs BTF tracepoints (this machine), every successful
// open strace shows is in the landlock section with its right, and so are
// the other accesses with theirs, the ports, the script and its
// interpreter; the missing file is no access. Where it does not, the
// recording is made without the section, with a note that names the
// feature, and nothing of the path recorder stays loaded.
func TestRecordPaths(t *testing.T) {
	dir := t.TempDir()
	// layout lays the directory out afresh: the run under strace starts
	// from what the recorded run started from.
	layout := func() {
		emptyDirs(t, dir)
		if err := os.WriteFile(filepath.Join(dir, "data"), []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join(dir, "data"), filepath.Join(dir, "link")); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "script.sh"), []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	layout()
	ops := workload.Build(t, "pathops")
	port := strconv.Itoa(freePort(t))
	script := `cd "$1" && cat data ./link ../` + filepath.Base(dir) + `/data >/dev/null && mkdir sub && rmdir sub && echo y > out; cat /nonexistent 2>/dev/null; ./script.sh; ` +
		`rm -rf sub; mkdir sub && "$2" ops "$1" "$3"; kill -0 1; kill -0 $$; exit 0`
	argv := []string{"/bin/sh", "-c", script, "sh", dir, ops, port}

	be := newTestEBPF(t, EBPFOptions{Paths: true})
	res, err := Record(context.Background(), Options{Command: argv, Backend: be})
	if err != nil {
		t.Fatal(err)
	}
	raw, ok := res.Recording.Sections[recording.LandlockKind]
	if !ok {
		note := ""
		for _, n := range res.Recording.Notes {
			if strings.HasPrefix(n, "no landlock section: ") {
				note = n
			}
		}
		if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err == nil {
			t.Fatalf("no landlock section on a kernel with BTF (its tracepoints run the path recorder): notes %q", res.Recording.Notes)
		}
		if note == "" {
			t.Fatalf("no landlock section and no note naming the missing feature: notes %q", res.Recording.Notes)
		}
		if be.paths != nil {
			t.Errorf("the path recorder is loaded although the section is missing")
		}
		t.Logf("the kernel refused the path recorder: %s", note)
		if len(res.Recording.Syscalls) == 0 {
			t.Errorf("the recording of syscalls did not go on without the section")
		}
		return
	}
	sec, err := recording.ParseLandlock(raw)
	if err != nil {
		t.Fatalf("landlock section: %v\n%s", err, raw)
	}
	have := map[[2]string]recording.LandlockAccess{}
	for _, a := range sec.Accesses {
		have[[2]string{a.Path, a.Right}] = a
	}
	layout()
	checkCovered(t, sec, straceRun(t, argv, dir), nil)
	cat, err := filepath.EvalSymlinks("/bin/cat")
	if err != nil {
		t.Fatal(err)
	}
	interp, err := filepath.EvalSymlinks("/lib64/ld-linux-x86-64.so.2")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct{ path, right string }{
		{filepath.Join(dir, "sub"), "make_dir"}, {filepath.Join(dir, "sub"), "remove_dir"},
		{filepath.Join(dir, "out"), "make_reg"}, {filepath.Join(dir, "out"), "write_file"},
		{filepath.Join(dir, "data"), "read_file"},
		{cat, "execute"}, {cat, "read_file"}, {interp, "execute"},
		{filepath.Join(dir, "script.sh"), "execute"}, {filepath.Join(dir, "script.sh"), "read_file"},
		// pathops: openat(dirfd, "sub/../data"), a file created and
		// removed, a rename into another directory.
		{filepath.Join(dir, "tmpfile"), "make_reg"}, {filepath.Join(dir, "tmpfile"), "write_file"},
		{filepath.Join(dir, "tmpfile"), "remove_file"},
		{filepath.Join(dir, "a"), "make_reg"}, {filepath.Join(dir, "a"), "remove_file"},
		{filepath.Join(dir, "sub", "b"), "make_reg"}, {filepath.Join(dir, "sub", "b"), "remove_file"},
		{filepath.Join(dir, "a"), "refer"}, {filepath.Join(dir, "sub", "b"), "refer"},
		{ops, "execute"},
	} {
		p, err := filepath.EvalSymlinks(filepath.Dir(want.path))
		if err == nil {
			want.path = filepath.Join(p, filepath.Base(want.path))
		}
		if a := have[[2]string{want.path, want.right}]; a.OK == 0 {
			t.Errorf("%s %s: not recorded as done", want.path, want.right)
		}
	}
	for _, a := range sec.Accesses {
		if a.Path == "/nonexistent" {
			t.Errorf("a missing file was recorded: %+v", a)
		}
		if a.OK > 0 && len(a.Exes) == 0 && a.OtherExes == 0 {
			t.Errorf("%s %s: no executable", a.Path, a.Right)
		}
	}
	if a := have[[2]string{filepath.Join(dir, "data"), "read_file"}]; !slices.Contains(a.Exes, ops) || !slices.ContainsFunc(a.Exes, func(e string) bool { return resolved(t, e) == cat }) {
		t.Errorf("%s read_file by %v, want %s and %s among them", a.Path, a.Exes, ops, cat)
	}
	p, _ := strconv.Atoi(port)
	hasPort := func(ports []recording.LandlockPort) bool {
		for _, x := range ports {
			if int(x.Port) == p && x.Count > 0 {
				return true
			}
		}
		return false
	}
	if !hasPort(sec.TCPBind) || !hasPort(sec.TCPConnect) {
		t.Errorf("port %d: bind %+v, connect %+v", p, sec.TCPBind, sec.TCPConnect)
	}
	if sec.AbstractUnix == 0 || sec.SignalsOutside != 1 {
		t.Errorf("abstract UNIX connects %d, signals outside %d: want some, and 1 (kill -0 1; kill -0 $$ is the target's own)", sec.AbstractUnix, sec.SignalsOutside)
	}
	if len(sec.Unresolved) > 0 {
		t.Errorf("unresolved: %+v", sec.Unresolved)
	}
	if !slices.ContainsFunc(res.Recording.Notes, func(n string) bool { return strings.Contains(n, "1 renames (without RENAME_NOREPLACE)") }) {
		t.Errorf("no note of the rename's remove_file: %q", res.Recording.Notes)
	}
}

// TestRecordPathsSysExit: where the syscalls' own exit events cannot be
// used, the path recorder runs on the raw tracepoint sys_exit and records
// the same (a file read by a relative path, a directory made and removed,
// the executable), with a note that says so.
func TestRecordPathsSysExit(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "data"), []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	be := newTestEBPF(t, EBPFOptions{Paths: true})
	be.pathsSysExit = true
	res, err := Record(context.Background(), Options{Command: []string{"/bin/sh", "-c", `cd "$1" && cat data >/dev/null && mkdir sub && rmdir sub`, "sh", dir}, Backend: be})
	if err != nil {
		t.Fatal(err)
	}
	raw, ok := res.Recording.Sections[recording.LandlockKind]
	if !ok {
		t.Fatalf("no landlock section: %q", res.Recording.Notes)
	}
	sec, err := recording.ParseLandlock(raw)
	if err != nil {
		t.Fatal(err)
	}
	have := map[[2]string]bool{}
	for _, a := range sec.Accesses {
		have[[2]string{a.Path, a.Right}] = a.OK > 0
	}
	cat, _ := filepath.EvalSymlinks("/bin/cat")
	for _, want := range [][2]string{{filepath.Join(dir, "data"), "read_file"}, {filepath.Join(dir, "sub"), "make_dir"}, {filepath.Join(dir, "sub"), "remove_dir"}, {cat, "execute"}} {
		if !have[want] {
			t.Errorf("%s %s not recorded", want[0], want[1])
		}
	}
	note := false
	for _, n := range res.Recording.Notes {
		note = note || strings.Contains(n, "raw tracepoint sys_exit")
	}
	if !note {
		t.Errorf("no note of sys_exit: %q", res.Recording.Notes)
	}
}

// TestRecordPathsNginx: Debian's nginx (workload.LayoutNginx) recorded
// serving GETs and a WebDAV PUT (its body written in tmp/, then renamed
// into www/uploads/), against the kernel as oracle (pathServer).
func TestRecordPathsNginx(t *testing.T) {
	dir := t.TempDir()
	port := strconv.Itoa(freePort(t))
	var n *workload.Nginx
	url := "http://127.0.0.1:" + port
	sec := pathServer{
		addr: "127.0.0.1:" + port,
		drive: "curl -sf -o /dev/null " + url + "/index.html && curl -s -o /dev/null " + url + "/missing && " +
			"curl -sf -o /dev/null -T /etc/hostname " + url + "/uploads/put.txt",
		roots: []string{dir},
		layout: func(t *testing.T) []string {
			n = workload.LayoutNginx(t, dir, dir, port, strconv.Itoa(freePort(t)))
			return n.Command
		},
	}.check(t)
	defer n.LogOnFail(t)
	have := map[[2]string]uint64{}
	for _, a := range sec.Accesses {
		have[[2]string{a.Path, a.Right}] += a.OK
	}
	for _, want := range [][2]string{{filepath.Join(dir, "www", "index.html"), "read_file"}, {filepath.Join(dir, "www", "uploads", "put.txt"), "make_reg"}} {
		if have[want] == 0 {
			t.Errorf("%s %s: not recorded", want[0], want[1])
		}
	}
}

// TestRecordPathsRedis: Debian's redis-server recorded with its
// persistence exercised in a directory of its own (--dir): two SAVEs (the
// second rename replaces dump.rdb), a BGSAVE (its forked child renames),
// and AOF turned on (appendonlydir made, the rewrite's files renamed into
// it from the directory above), against the kernel as oracle (pathServer).
func TestRecordPathsRedis(t *testing.T) {
	server, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server (Debian's redis-server package; scripts/deps.sh installs it): %v", err)
	}
	dir := t.TempDir()
	data, run := filepath.Join(dir, "data"), filepath.Join(dir, "run")
	port := strconv.Itoa(freePort(t))
	r := "redis-cli -p " + port
	drive := `r() { ` + r + ` "$@"; }; w() { for i in $(seq 200); do r INFO persistence | grep -q "^$1:0" && return 0; sleep 0.05; done; return 1; }; ` +
		`r SET a 1 && r SAVE && r SET b 2 && r SAVE && r BGSAVE && w rdb_bgsave_in_progress && ` +
		`r CONFIG SET appendonly yes && w aof_rewrite_in_progress && r SET c 3`
	temp := regexp.MustCompile(`/(temp-(?:rewriteaof-(?:bg-)?)?)\d+\.`)
	sec := pathServer{
		addr:  "127.0.0.1:" + port,
		drive: drive,
		roots: []string{dir},
		layout: func(t *testing.T) []string {
			for _, d := range []string{data, run} {
				if err := os.Mkdir(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			return []string{server, "--port", port, "--bind", "127.0.0.1", "--dir", data, "--dbfilename", "dump.rdb",
				"--save", "", "--appendonly", "no", "--pidfile", filepath.Join(run, "redis.pid"),
				"--logfile", filepath.Join(run, "redis.log"), "--daemonize", "no"}
		},
		norm: func(p string) string { return temp.ReplaceAllString(p, "/${1}PID.") },
	}.check(t)
	have := map[[2]string]uint64{}
	for _, a := range sec.Accesses {
		have[[2]string{a.Path, a.Right}] += a.OK
	}
	for _, want := range [][2]string{
		{filepath.Join(data, "dump.rdb"), "make_reg"}, {filepath.Join(data, "dump.rdb"), "remove_file"},
		{filepath.Join(data, "appendonlydir"), "make_dir"},
		{filepath.Join(data, "appendonlydir", "appendonly.aof.1.base.rdb"), "refer"},
	} {
		if have[want] == 0 {
			t.Errorf("%s %s: not recorded", want[0], want[1])
		}
	}
}

// TestRecordPathsCalls: the pathops workload's every call by name that
// Landlock governs (pathops calls: relative to its cwd, a child's after
// fchdir, an execveat by a directory descriptor), recorded with paths and
// checked against the kernel as oracle: every access the oracle finds in
// the same run under strace is in the recording with its right.
func TestRecordPathsCalls(t *testing.T) {
	dir := t.TempDir()
	argv := []string{workload.Build(t, "pathops"), "calls", dir}
	sec := recordPaths(t, Options{Command: argv})
	emptyDirs(t, dir)
	want := straceRun(t, argv, dir)
	rights := map[string]bool{}
	for _, w := range want {
		rights[w.right] = true
	}
	// The oracle itself: every right the workload needs is among what it
	// found (a parser that lost a class of calls would check nothing).
	for _, r := range []string{"make_reg", "make_dir", "make_fifo", "make_sock", "make_sym", "remove_file", "remove_dir",
		"refer", "truncate", "execute", "read_file", "read_dir", "write_file"} {
		if !rights[r] {
			t.Errorf("the oracle found no %s in pathops calls", r)
		}
	}
	checkCovered(t, sec, want, nil)
	for _, u := range sec.Unresolved {
		if u.Syscall == "open" && strings.Contains(u.Reason, "write_file: file already removed") && u.Count == 1 {
			continue // the O_TMPFILE file, written without a name
		}
		t.Errorf("unresolved: %+v", u)
	}
}

// TestRecordPathsWorkloads: the bundled workloads that touch files,
// recorded with paths and run again under strace, in a directory laid out
// afresh for each run: every access the oracle finds is in the recording
// with its right (checkCovered). The Go HTTP server serves its own file
// (GET /file) to its driver (pathServer).
func TestRecordPathsWorkloads(t *testing.T) {
	for _, c := range []struct {
		name string
		argv func(t *testing.T, dir string) []string
	}{
		{"cfiletcp", func(t *testing.T, dir string) []string { return []string{workload.Build(t, "cfiletcp"), dir} }},
		{"pipeline", func(t *testing.T, dir string) []string {
			return []string{"/bin/sh", workload.Path(t, "multiproc/pipeline.sh")}
		}},
		{"daemon", func(t *testing.T, dir string) []string {
			return []string{workload.Build(t, "multiproc/daemon.c"), filepath.Join(dir, "daemon.out"), "50"}
		}},
		{"dlplugin", func(t *testing.T, dir string) []string {
			return []string{workload.Build(t, "dlplugin/dlplugin.c"), workload.BuildShared(t, "dlplugin/plugin.c")}
		}},
		{"argshapes", func(t *testing.T, dir string) []string { return []string{workload.Build(t, "argshapes")} }},
		{"envprobe", func(t *testing.T, dir string) []string { return []string{workload.Build(t, "envprobe")} }},
		{"threads", func(t *testing.T, dir string) []string {
			return []string{workload.Build(t, "multiproc/threads.c"), "4"}
		}},
		{"rwloop", func(t *testing.T, dir string) []string { return []string{workload.Build(t, "rwloop"), "1000"} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			argv := c.argv(t, dir)
			sec := recordPaths(t, Options{Command: argv})
			emptyDirs(t, dir)
			checkCovered(t, sec, straceRun(t, argv, dir), nil)
		})
	}
	t.Run("httpserver", func(t *testing.T) {
		server, driver := workload.Build(t, "httpserver"), workload.Build(t, "httpserver/driver")
		addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
		pathServer{
			addr:   addr,
			drive:  driver + " --addr " + addr + " --rounds 2",
			roots:  []string{t.TempDir()},
			layout: func(t *testing.T) []string { return []string{server, "--addr", addr} },
		}.check(t)
	})
}

// TestRecordPathsMemcached: Debian's memcached (its pid file in a
// directory of its own) recorded storing and reading a key, against the
// kernel as oracle (pathServer).
func TestRecordPathsMemcached(t *testing.T) {
	server, err := exec.LookPath("memcached")
	if err != nil {
		t.Fatalf("memcached (Debian's memcached package; scripts/deps.sh installs it): %v", err)
	}
	dir := t.TempDir()
	port := strconv.Itoa(freePort(t))
	sec := pathServer{
		addr: "127.0.0.1:" + port,
		drive: `bash -c 'exec 3<>/dev/tcp/127.0.0.1/` + port + `; printf "set k 0 0 1\r\nv\r\nget k\r\nquit\r\n" >&3; ` +
			`grep -q "^VALUE k" <&3'`,
		roots: []string{dir},
		layout: func(t *testing.T) []string {
			return []string{server, "-u", "root", "-l", "127.0.0.1", "-p", port, "-U", "0", "-P", filepath.Join(dir, "memcached.pid")}
		},
	}.check(t)
	if !slices.ContainsFunc(sec.Accesses, func(a recording.LandlockAccess) bool {
		return a.Path == filepath.Join(dir, "memcached.pid") && a.Right == "make_reg" && a.OK > 0
	}) {
		t.Errorf("the pid file was not recorded as made")
	}
}

// TestRecordPathsPostgres: Debian's PostgreSQL (a cluster made once by
// initdb, copied afresh for each run; the server run as the postgres user
// by setpriv, as it refuses root) recorded creating a table, writing to it
// and checkpointing, against the kernel as oracle (pathServer).
func TestRecordPathsPostgres(t *testing.T) {
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	if len(bins) == 0 {
		t.Fatal("postgres (Debian's postgresql package; scripts/deps.sh installs it): no /usr/lib/postgresql/*/bin/postgres")
	}
	server := bins[len(bins)-1]
	pgUser, err := user.Lookup("postgres")
	if err != nil {
		t.Fatalf("the postgres user (Debian's postgresql package makes it): %v", err)
	}
	uid, _ := strconv.Atoi(pgUser.Uid)
	gid, _ := strconv.Atoi(pgUser.Gid)
	dir, tmpl := t.TempDir(), t.TempDir()
	for _, d := range []string{dir, tmpl} {
		if err := os.Chown(d, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Dir(dir), 0o755); err != nil { // the test's temporary directory
		t.Fatal(err)
	}
	asPostgres := []string{"setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"}
	initdb := exec.Command(asPostgres[0], append(asPostgres[1:], filepath.Join(filepath.Dir(server), "initdb"), "-D", filepath.Join(tmpl, "data"), "--no-sync", "-A", "trust", "-U", "postgres")...)
	if b, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, b)
	}
	port := strconv.Itoa(freePort(t))
	data := filepath.Join(dir, "data")
	// Named by pid or at random: shared memory segments, and the
	// relation cache's temporary files (pg_internal.init.PID).
	perRun := regexp.MustCompile(`^(/dev/shm/PostgreSQL|.*/pg_internal\.init)\.\d+$`)
	pathServer{
		addr: "127.0.0.1:" + port,
		drive: "psql -qAt -h 127.0.0.1 -p " + port + " -U postgres -c 'CREATE TABLE t (a int)' -c 'INSERT INTO t VALUES (1)' " +
			"-c 'CHECKPOINT' -c 'SELECT a FROM t' postgres | grep -qx 1",
		roots: []string{dir},
		layout: func(t *testing.T) []string {
			if b, err := exec.Command("cp", "-a", filepath.Join(tmpl, "data"), data).CombinedOutput(); err != nil {
				t.Fatalf("copy the cluster: %v\n%s", err, b)
			}
			return append(slices.Clone(asPostgres), server, "-D", data, "-p", port, "-c", "listen_addresses=127.0.0.1", "-k", dir)
		},
		norm: func(p string) string { return perRun.ReplaceAllString(p, "$1.N") },
	}.check(t)
}
