package trace

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/profgen/profgen/internal/workload"
	"github.com/profgen/profgen/recording"
)

// straceOpenRe matches a successful open of strace -f -y: the returned
// descriptor is annotated with the path the kernel resolved.
var straceOpenRe = regexp.MustCompile(`^(?:\[pid\s+\d+\] )?(open|openat|openat2|creat)\((.*)\) = \d+<(/[^>]*)>`)

// straceOpens runs argv under `strace -f -y -e trace=%file,%process` and
// returns the (path, right) pairs of its successful opens: read_file or
// read_dir for a read, write_file for a write, as Landlock requires them at
// open.
func straceOpens(t *testing.T, argv []string) map[[2]string]bool {
	t.Helper()
	out := filepath.Join(t.TempDir(), "strace.out")
	cmd := exec.Command("strace", append([]string{"-f", "-qq", "-y", "-e", "trace=%file,%process", "-o", out, "--"}, argv...)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("strace: %v: %s", err, b)
	}
	return parseStraceOpens(t, out)
}

// parseStraceOpens reads the (path, right) pairs of the successful opens
// in strace's output file out.
func parseStraceOpens(t *testing.T, out string) map[[2]string]bool {
	t.Helper()
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := map[[2]string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		m := straceOpenRe.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		args, path := m[2], m[3]
		st, err := os.Stat(path)
		read := "read_file"
		if err == nil && st.IsDir() {
			read = "read_dir"
		}
		switch {
		case strings.Contains(args, "O_RDWR"):
			got[[2]string{path, read}] = true
			got[[2]string{path, "write_file"}] = true
		case strings.Contains(args, "O_WRONLY"):
			got[[2]string{path, "write_file"}] = true
		case strings.Contains(args, "O_PATH"):
		default:
			got[[2]string{path, read}] = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

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
	if err := os.WriteFile(filepath.Join(dir, "data"), []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "data"), filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "script.sh"), []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
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
	for k := range straceOpens(t, argv) {
		if strings.HasPrefix(k[0], "/dev/") || strings.HasPrefix(k[0], "/proc/") {
			continue // the tracer's own descriptors
		}
		if a, ok := have[k]; !ok || a.OK == 0 {
			b, _ := json.MarshalIndent(sec, "", " ")
			t.Errorf("strace shows %s opened for %s; the recording has %+v\n%s", k[0], k[1], a, b)
		}
	}
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

// TestRecordPathsNginx: Debian's nginx, recorded serving GETs, against the
// kernel as oracle: every file strace shows it opening successfully for the
// same drive is in the landlock section with its right.
func TestRecordPathsNginx(t *testing.T) {
	nginx, err := exec.LookPath("/usr/sbin/nginx")
	if err != nil {
		t.Fatalf("nginx (Debian's nginx package; scripts/deps.sh installs it): %v", err)
	}
	dir := t.TempDir()
	for _, d := range []string{"www", "run", "tmp"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "www", "index.html"), []byte("hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(freePort(t))
	conf := filepath.Join(dir, "nginx.conf")
	text := "daemon off;\nuser root;\nworker_processes 1;\npid " + dir + "/run/nginx.pid;\nerror_log " + dir + "/run/error.log;\n" +
		"events { worker_connections 64; }\nhttp { access_log off; client_body_temp_path " + dir + "/tmp/body; proxy_temp_path " + dir + "/tmp/proxy;\n" +
		"fastcgi_temp_path " + dir + "/tmp/fastcgi; uwsgi_temp_path " + dir + "/tmp/uwsgi; scgi_temp_path " + dir + "/tmp/scgi;\n" +
		"server { listen 127.0.0.1:" + port + "; root " + dir + "/www; } }\n"
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	server := []string{nginx, "-e", filepath.Join(dir, "run", "error.log"), "-p", dir, "-c", conf}
	drive := "curl -sf -o /dev/null http://127.0.0.1:" + port + "/index.html && curl -s -o /dev/null http://127.0.0.1:" + port + "/missing"

	be := newTestEBPF(t, EBPFOptions{Paths: true})
	res, err := Record(context.Background(), Options{Command: server, Backend: be, Drive: drive, Ready: "tcp:127.0.0.1:" + port})
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
	have := map[[2]string]uint64{}
	for _, a := range sec.Accesses {
		have[[2]string{a.Path, a.Right}] += a.OK
	}

	// The same run under strace: started, driven, stopped by its pid file.
	out := filepath.Join(t.TempDir(), "strace.out")
	st := exec.Command("strace", append([]string{"-f", "-qq", "-y", "-e", "trace=%file,%process", "-o", out, "--"}, server...)...)
	if err := st.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", "127.0.0.1:"+port); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			st.Process.Kill()
			st.Wait()
			t.Fatal("nginx under strace never listened")
		}
	}
	if b, err := exec.Command("sh", "-c", drive).CombinedOutput(); err != nil {
		t.Errorf("drive under strace: %v\n%s", err, b)
	}
	if b, err := exec.Command(nginx, "-p", dir, "-c", conf, "-e", filepath.Join(dir, "run", "error.log"), "-s", "quit").CombinedOutput(); err != nil {
		st.Process.Kill()
		t.Errorf("nginx -s quit: %v\n%s", err, b)
	}
	st.Wait()
	for k := range parseStraceOpens(t, out) {
		if have[k] == 0 {
			b, _ := json.MarshalIndent(sec, "", " ")
			t.Errorf("strace shows nginx opening %s for %s; the recording has not\n%s", k[0], k[1], b)
		}
	}
	if have[[2]string{filepath.Join(dir, "www", "index.html"), "read_file"}] == 0 {
		t.Errorf("the served file was not recorded as read")
	}
}
