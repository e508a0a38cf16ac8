package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/profgen/profgen/filter"
	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/internal/seccomp"
	"github.com/profgen/profgen/internal/workload"
	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/recording"
)

// reachableJSON runs profgen reachable --json with args in dir and decodes
// its reports; a failure fails t.
func reachableJSON(t *testing.T, dir string, args ...string) []reachReport {
	t.Helper()
	r := runProfgen(t, dir, append([]string{"reachable", "--json"}, args...)...)
	if r.code != 0 {
		t.Fatalf("reachable %v: exit %d: %s", args, r.code, r.stderr)
	}
	var reps []reachReport
	if err := json.Unmarshal([]byte(r.stdout), &reps); err != nil {
		t.Fatalf("reachable --json: %v\n%s", err, r.stdout)
	}
	return reps
}

// checkReachReport checks a recording's report against the recording: the
// program analysed is the one recorded, recorded = the recording's
// syscalls, unseen = reachable − recorded with purposes, and every recorded
// call outside reachable is listed (and here, kernel-made).
func checkReachReport(t *testing.T, rep reachReport, rec *recording.Recording, exe string) {
	t.Helper()
	if len(rep.Programs) != 1 || rep.Programs[0].Path != exe {
		t.Fatalf("programs %+v, want %s alone", rep.Programs, exe)
	}
	if len(rep.Reachable) < 20 || rep.Native < 300 || len(rep.Reachable) >= rep.Native {
		t.Errorf("reachable %d of %d native syscalls", len(rep.Reachable), rep.Native)
	}
	var recorded []string
	for _, s := range rec.Syscalls {
		recorded = append(recorded, s.Name)
	}
	slices.Sort(recorded)
	if !slices.Equal(rep.Recorded, recorded) {
		t.Errorf("recorded %v, the recording holds %v", rep.Recorded, recorded)
	}
	reach := map[string]bool{}
	for _, s := range rep.Reachable {
		reach[s] = true
	}
	var unseen []string
	for _, u := range rep.Unseen {
		unseen = append(unseen, u.Name)
		if u.Purpose == "" || !reach[u.Name] || slices.Contains(recorded, u.Name) {
			t.Errorf("unseen %+v: not reachable-and-unrecorded, or no purpose", u)
		}
	}
	var want []string
	for _, s := range rep.Reachable {
		if !slices.Contains(recorded, s) {
			want = append(want, s)
		}
	}
	if !slices.Equal(unseen, want) {
		t.Errorf("unseen %v, want reachable − recorded %v", unseen, want)
	}
	for _, s := range recorded {
		listed := slices.ContainsFunc(rep.NotReachable, func(n notReached) bool { return n.Name == s })
		if reach[s] == listed {
			t.Errorf("recorded %s: reachable %v, listed as not reachable %v", s, reach[s], listed)
		}
	}
	for _, n := range rep.NotReachable {
		// execve is made by the launcher before the target's code runs.
		if n.KernelMade == "" && (n.Name != "execve" || n.Start == "") {
			t.Errorf("recorded %s not reachable: a gap in the analysis", n.Name)
		}
	}
}

// recordRwloop records the bundled rwloop workload (n rounds) into
// dir/name and returns the recording and the executable.
func recordRwloop(t *testing.T, dir, name, n string) (*recording.Recording, string) {
	t.Helper()
	exe := workload.Build(t, "rwloop/rwloop.c")
	if r := runProfgen(t, dir, "record", "-o", name, "--", exe, n); r.code != 0 {
		t.Fatalf("record: exit %d: %s", r.code, r.stderr)
	}
	rec, err := recording.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return rec, exe
}

// TestReachableWorkload records a bundled workload and runs profgen
// reachable on the recording: the executable its evidence names is
// analysed, and reachable, unseen and recorded-but-not-reachable add up.
func TestReachableWorkload(t *testing.T) {
	dir := t.TempDir()
	rec, exe := recordRwloop(t, dir, "rec.json", "100")
	reps := reachableJSON(t, dir, "rec.json")
	if len(reps) != 1 || reps[0].Recording != "rec.json" {
		t.Fatalf("reports %+v", reps)
	}
	checkReachReport(t, reps[0], rec, exe)
	if len(reps[0].Unseen) == 0 {
		t.Errorf("nothing unseen: libc alone reaches more than rwloop calls")
	}

	// The text output says the same.
	r := runProfgen(t, dir, "reachable", "rec.json")
	if r.code != 0 {
		t.Fatalf("reachable: exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{
		"recording rec.json\n",
		"program " + exe + ": ",
		fmt.Sprintf("reachable: %d of %d x86_64 syscalls", len(reps[0].Reachable), reps[0].Native),
		fmt.Sprintf("recorded: %d\n", len(rec.Syscalls)),
		fmt.Sprintf("unseen (reachable, never recorded): %d\n", len(reps[0].Unseen)),
		"recorded but not reachable: ",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("text output lacks %q:\n%s", want, r.stdout)
		}
	}
}

// TestReachableGoWorkload records the bundled Go HTTP server, a static
// binary: its analysis is noted as such, and the execve that started it,
// which its code never makes, is listed as the start, not a gap.
func TestReachableGoWorkload(t *testing.T) {
	exe, driver := workload.Build(t, "httpserver"), workload.Build(t, "httpserver/driver")
	dir := t.TempDir()
	addr := "127.0.0.1:" + freePort(t)
	if r := runProfgen(t, dir, "record", "-o", "go.json", "--ready", "tcp:"+addr,
		"--drive", driver+" --addr "+addr+" --rounds 1", "--", exe, "--addr", addr); r.code != 0 {
		t.Fatalf("record: exit %d: %s", r.code, r.stderr)
	}
	rec, err := recording.ReadFile(filepath.Join(dir, "go.json"))
	if err != nil {
		t.Fatal(err)
	}
	reps := reachableJSON(t, dir, "go.json")
	checkReachReport(t, reps[0], rec, exe)
	if !slices.ContainsFunc(reps[0].Notes, func(n string) bool { return strings.Contains(n, "static binary") }) {
		t.Errorf("notes %q do not say the Go binary is static", reps[0].Notes)
	}
	if !slices.ContainsFunc(reps[0].NotReachable, func(n notReached) bool { return n.Name == "execve" && n.Start != "" }) {
		t.Errorf("recorded but not reachable %+v: want the starting execve", reps[0].NotReachable)
	}
}

// TestReachableRedis records redis driven without saving: the persistence
// path it never took (fsync or fdatasync, rename) is unseen, grouped as
// file writes.
// recordRedis records redis-server driven without saving (SET, GET, INCR)
// into dir/redis.json and returns the recording and the executable as the
// process was started (redis-server, a link to redis-check-rdb, named as
// the process saw it).
func recordRedis(t *testing.T, dir string) (*recording.Recording, string) {
	t.Helper()
	server, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server: %v (scripts/deps.sh installs it)", err)
	}
	port := freePort(t)
	drive := fmt.Sprintf("redis-cli -p %s SET k v && redis-cli -p %s GET k && redis-cli -p %s INCR n", port, port, port)
	if r := runProfgen(t, dir, "record", "-o", "redis.json", "--ready", "tcp:127.0.0.1:"+port, "--drive", drive,
		"--", server, "--port", port, "--save", "", "--appendonly", "no", "--dir", dir); r.code != 0 {
		t.Fatalf("record: exit %d: %s", r.code, r.stderr)
	}
	rec, err := recording.ReadFile(filepath.Join(dir, "redis.json"))
	if err != nil {
		t.Fatal(err)
	}
	return rec, server
}

func TestReachableRedis(t *testing.T) {
	dir := t.TempDir()
	rec, exe := recordRedis(t, dir)
	reps := reachableJSON(t, dir, "redis.json")
	checkReachReport(t, reps[0], rec, exe)
	unseen := map[string]string{}
	for _, u := range reps[0].Unseen {
		unseen[u.Name] = u.Purpose
	}
	if unseen["fsync"] == "" && unseen["fdatasync"] == "" {
		t.Errorf("unseen lacks fsync and fdatasync: %v", unseen)
	}
	if unseen["rename"] == "" && unseen["renameat"] == "" && unseen["renameat2"] == "" {
		t.Errorf("unseen lacks rename: %v", unseen)
	}
	for _, s := range []string{"fsync", "fdatasync", "rename"} {
		if p, ok := unseen[s]; ok && p != "file writes" {
			t.Errorf("unseen %s grouped under %q, want file writes", s, p)
		}
	}
	r := runProfgen(t, dir, "reachable", "redis.json")
	if !strings.Contains(r.stdout, "\n  file writes (") || !strings.Contains(r.stdout, "\n  dangerous (") {
		t.Errorf("text output lacks the file writes or dangerous group:\n%s", r.stdout)
	}
}

// TestReachableBadInput: what cannot be analysed is a one-line note (a
// stripped binary, a static one, a missing library) or, when nothing can
// be, a one-line error and exit status 1 (a non-ELF file alone, a recording
// that names no executable, a container recording whose rootfs is gone).
func TestReachableBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	gcc := func(args ...string) {
		t.Helper()
		cmd := exec.Command("gcc", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("gcc %v: %v: %s", args, err, out)
		}
	}
	write("main.c", "extern int f(void);\nint main(void){return f();}\n")
	write("f.c", "#include <unistd.h>\nint f(void){return (int)getppid();}\n")
	write("hello.c", "#include <unistd.h>\nint main(void){return write(1, \"hi\\n\", 3) != 3;}\n")
	gcc("-shared", "-fPIC", "-o", "libf.so", "f.c")
	gcc("-o", "needsf", "main.c", "-L.", "-lf", "-Wl,-rpath,$ORIGIN")
	if err := os.Remove(filepath.Join(dir, "libf.so")); err != nil {
		t.Fatal(err)
	}
	gcc("-static", "-o", "static", "hello.c")
	gcc("-s", "-o", "stripped", "hello.c")
	script := write("script.sh", "#!/bin/sh\necho hi\n")

	// Each analysed, each with its note.
	for _, tc := range []struct{ exe, note string }{
		{"needsf", "libf.so (needed by "},
		{"static", "static binary"},
		{"stripped", "stripped"},
	} {
		reps := reachableJSON(t, dir, filepath.Join(dir, tc.exe))
		if len(reps[0].Notes) == 0 || !strings.Contains(strings.Join(reps[0].Notes, "\n"), tc.note) {
			t.Errorf("%s: notes %q, want one with %q", tc.exe, reps[0].Notes, tc.note)
		}
		if len(reps[0].Reachable) == 0 {
			t.Errorf("%s: nothing reachable", tc.exe)
		}
	}
	// A non-ELF file beside an ELF one is a note; alone, an error.
	reps := reachableJSON(t, dir, script, filepath.Join(dir, "stripped"))
	if !slices.ContainsFunc(reps[0].Notes, func(n string) bool { return strings.Contains(n, script+": not analysed: not an ELF file") }) {
		t.Errorf("notes %q lack the script's", reps[0].Notes)
	}

	// A recording naming no executable, and one of a container whose
	// bundle is gone: made from a real recording.
	rec, exe := recordRwloop(t, dir, "rec.json", "10")
	rec.Container = &recording.Container{ID: "c1", Bundle: filepath.Join(dir, "gone-bundle"), Engine: "podman", Runtime: "/usr/bin/runc"}
	if err := rec.WriteFile(filepath.Join(dir, "container.json")); err != nil {
		t.Fatal(err)
	}
	for i := range rec.Syscalls {
		rec.Syscalls[i].Exes = nil
	}
	rec.Container = nil
	if err := rec.WriteFile(filepath.Join(dir, "noexes.json")); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{script}, "profgen: nothing could be analysed: " + script + ": not analysed: not an ELF file\n"},
		{[]string{"noexes.json"}, "profgen: noexes.json: the recording names no executable"},
		{[]string{"container.json"}, "profgen: container.json: container c1: its bundle's " + filepath.Join(dir, "gone-bundle", "config.json") + " is not on the host"},
		{[]string{"missing.json"}, "profgen: missing.json: no such file or directory\n"},
	} {
		r := runProfgen(t, dir, append([]string{"reachable"}, tc.args...)...)
		if r.code != 1 || !strings.HasPrefix(r.stderr, tc.want) || strings.Count(r.stderr, "\n") != 1 || r.stdout != "" {
			t.Errorf("reachable %v: exit %d, stdout %q, stderr %q; want exit 1 and one line %q", tc.args, r.code, r.stdout, r.stderr, tc.want)
		}
	}
	// An executable the recording names that is no longer there is a
	// note beside the others.
	rec.Syscalls[0].Exes = []string{exe, filepath.Join(dir, "removed")}
	slices.Sort(rec.Syscalls[0].Exes)
	if err := rec.WriteFile(filepath.Join(dir, "removed.json")); err != nil {
		t.Fatal(err)
	}
	reps = reachableJSON(t, dir, "removed.json")
	if want := filepath.Join(dir, "removed") + ": not analysed: no such file"; !slices.ContainsFunc(reps[0].Notes, func(n string) bool { return strings.HasPrefix(n, want) }) {
		t.Errorf("notes %q lack %q", reps[0].Notes, want)
	}
	rec.Syscalls[0].Exes = nil

	// With the executables given, the recording without them is analysed.
	reps = reachableJSON(t, dir, "noexes.json", exe)
	checkReachReport(t, reps[0], rec, exe)
	// A container recording with --root analyses inside it: here the
	// host's root.
	reps = reachableJSON(t, dir, "--root", "/", "container.json")
	if len(reps[0].Programs) != 1 || reps[0].Programs[0].Path != exe {
		t.Errorf("--root /: programs %+v", reps[0].Programs)
	}
}

// TestEmitEnvelope: emit --envelope reachable allows, in the filter the
// kernel would run, a call redis can make but the drive never exercised
// (fsync), and still denies a dangerous one it can reach but never made
// (setns); --envelope reachable-all allows that too; without --envelope
// both are denied. The text output marks the entries the envelope added.
func TestEmitEnvelope(t *testing.T) {
	dir := t.TempDir()
	rec, _ := recordRedis(t, dir)
	reps := reachableJSON(t, dir, "redis.json")
	unseen := map[string]string{}
	for _, u := range reps[0].Unseen {
		unseen[u.Name] = u.Dangerous
	}
	const safe, dangerous = "fsync", "setns"
	if _, ok := unseen[safe]; !ok {
		t.Fatalf("%s is not unseen in redis: %v", safe, unseen)
	}
	if unseen[dangerous] == "" {
		t.Fatalf("%s is not a dangerous unseen call of redis: %v", dangerous, unseen)
	}
	verdicts := func(args ...string) map[string]learn.Action {
		t.Helper()
		r := runProfgen(t, dir, append([]string{"emit", "--format", "bpf", "-o", "f.bpf"}, append(args, "redis.json")...)...)
		if r.code != 0 {
			t.Fatalf("emit %v: exit %d: %s", args, r.code, r.stderr)
		}
		b, err := os.ReadFile(filepath.Join(dir, "f.bpf"))
		if err != nil {
			t.Fatal(err)
		}
		prog, err := seccomp.DecodeFilter(b)
		if err != nil {
			t.Fatal(err)
		}
		vm, err := filter.NewVM(prog)
		if err != nil {
			t.Fatal(err)
		}
		audit, err := abi.Arch("amd64").Audit()
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]learn.Action{}
		for _, name := range []string{safe, dangerous, rec.Syscalls[0].Name} {
			nr, err := abi.SyscallNumber("amd64", name)
			if err != nil {
				t.Fatal(err)
			}
			if out[name], err = vm.Verdict(filter.SeccompData{Nr: int32(nr), Arch: audit}); err != nil {
				t.Fatal(err)
			}
		}
		return out
	}
	for _, tc := range []struct {
		args            []string
		safe, dangerous bool
	}{
		{nil, false, false},
		{[]string{"--envelope", "reachable"}, true, false},
		{[]string{"--envelope", "reachable-all"}, true, true},
	} {
		v := verdicts(tc.args...)
		if (v[safe] == learn.Allow) != tc.safe || (v[dangerous] == learn.Allow) != tc.dangerous {
			t.Errorf("emit %v: %s %s, %s %s; want allowed %v, %v", tc.args, safe, v[safe], dangerous, v[dangerous], tc.safe, tc.dangerous)
		}
	}

	r := runProfgen(t, dir, "emit", "--envelope", "reachable", "--format", "text", "redis.json")
	if r.code != 0 {
		t.Fatalf("emit text: exit %d: %s", r.code, r.stderr)
	}
	if !regexp.MustCompile(`(?m)^fsync +allow +- +reachable .* any$`).MatchString(r.stdout) ||
		!strings.Contains(r.stdout, "left out as dangerous: setns") {
		t.Errorf("text output does not mark the envelope:\n%s", r.stdout)
	}
	if r := runProfgen(t, dir, "emit", "-o", "profile.json", "redis.json"); r.code != 0 {
		t.Fatalf("emit: exit %d: %s", r.code, r.stderr)
	}
	for _, args := range [][]string{
		{"emit", "--envelope", "everything", "redis.json"},
		{"emit", "--envelope", "reachable", "profile.json"},
	} {
		if r := runProfgen(t, dir, args...); r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "--envelope") {
			t.Errorf("%v: exit %d, %q: want exit 1 and one line naming --envelope", args, r.code, r.stderr)
		}
	}
}

// TestEmitReachableColumn: emit --format text --reachable marks every
// syscall of redis's profile: the recorded ones the analysis finds yes,
// restart_syscall (baseline) kernel; without --reachable there is no
// column, and another format refuses the flag.
func TestEmitReachableColumn(t *testing.T) {
	dir := t.TempDir()
	rec, _ := recordRedis(t, dir)
	r := runProfgen(t, dir, "emit", "--format", "text", "--reachable", "redis.json")
	if r.code != 0 {
		t.Fatalf("emit: exit %d: %s", r.code, r.stderr)
	}
	for _, s := range rec.Syscalls {
		if !regexp.MustCompile(`(?m)^` + s.Name + ` +allow +\d+/1 +recorded .* yes `).MatchString(r.stdout) {
			t.Errorf("recorded %s not marked reachable:\n%s", s.Name, r.stdout)
		}
	}
	if !regexp.MustCompile(`(?m)^restart_syscall +allow +- +baseline .* kernel `).MatchString(r.stdout) {
		t.Errorf("restart_syscall not marked kernel:\n%s", r.stdout)
	}
	if r := runProfgen(t, dir, "emit", "--format", "text", "redis.json"); strings.Contains(r.stdout, "REACHABLE") {
		t.Errorf("REACHABLE column without --reachable:\n%s", r.stdout)
	}
	if r := runProfgen(t, dir, "emit", "--format", "oci", "--reachable", "redis.json"); r.code != 1 || !strings.HasPrefix(r.stderr, "profgen: --reachable marks the text format's table") {
		t.Errorf("--format oci --reachable: exit %d, %q", r.code, r.stderr)
	}
}

// TestExplainReachable: explain --reachable REC marks the allowed syscalls
// of the profile learned from redis's recording (for runc): every recorded
// one is reachable, restart_syscall is made by the kernel, and what the
// code cannot make (runc's own calls after loading the filter) is listed.
func TestExplainReachable(t *testing.T) {
	dir := t.TempDir()
	rec, _ := recordRedis(t, dir)
	if r := runProfgen(t, dir, "emit", "--runtime", "runc", "-o", "profile.json", "redis.json"); r.code != 0 {
		t.Fatalf("emit: exit %d: %s", r.code, r.stderr)
	}
	r := runProfgen(t, dir, "explain", "--json", "--reachable", "redis.json", "profile.json")
	if r.code != 0 {
		t.Fatalf("explain: exit %d: %s", r.code, r.stderr)
	}
	var rep struct {
		Reachable *struct {
			Programs, Reachable, NotReachable, KernelMade []string
		} `json:"reachable"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	m := rep.Reachable
	if m == nil || len(m.Programs) != 1 {
		t.Fatalf("reachable %+v", m)
	}
	for _, s := range rec.Syscalls {
		if !slices.Contains(m.Reachable, s.Name) {
			t.Errorf("recorded %s not marked reachable (not reachable: %v)", s.Name, m.NotReachable)
		}
	}
	if !slices.Contains(m.KernelMade, "restart_syscall") {
		t.Errorf("kernel-made %v lacks restart_syscall", m.KernelMade)
	}
	if !slices.Contains(m.NotReachable, "capset") {
		t.Errorf("not reachable %v lacks runc's capset", m.NotReachable)
	}
	r = runProfgen(t, dir, "explain", "--reachable", "redis.json", "profile.json")
	if !strings.Contains(r.stdout, "statically reachable (profgen reachable: ") || !strings.Contains(r.stdout, "allowed, not reachable by the program's code (") {
		t.Errorf("text report lacks the reachable section:\n%s", r.stdout)
	}
	r = runProfgen(t, dir, "explain", "--reachable", "profile.json", "profile.json")
	if r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "profgen: --reachable") {
		t.Errorf("--reachable with a profile: exit %d, %q", r.code, r.stderr)
	}
}

// TestReachableContainerRoot: a container recording is analysed inside the
// root filesystem its bundle's config.json names: the executable the
// evidence names (/app/rwloop) and its libraries are found there, not on
// the host; a library missing from that root is a note, and the program is
// marked incomplete.
func TestReachableContainerRoot(t *testing.T) {
	dir := t.TempDir()
	rec, exe := recordRwloop(t, dir, "host.json", "10")
	for i := range rec.Syscalls {
		if len(rec.Syscalls[i].Exes) > 0 {
			rec.Syscalls[i].Exes = []string{"/app/rwloop"}
		}
	}
	bundle := filepath.Join(dir, "bundle")
	rootfs := filepath.Join(bundle, "rootfs")
	cp := func(src, dst string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(rootfs, dst)), 0o755); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("cp", "-L", src, filepath.Join(rootfs, dst)).CombinedOutput(); err != nil {
			t.Fatalf("cp %s: %v: %s", src, err, out)
		}
	}
	cp(exe, "app/rwloop")
	cp("/lib64/ld-linux-x86-64.so.2", "lib64/ld-linux-x86-64.so.2")
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), []byte(`{"ociVersion": "1.0.2", "root": {"path": "rootfs"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	rec.Container = &recording.Container{ID: "c2", Bundle: bundle, Engine: "unknown", Runtime: "/usr/bin/runc"}
	if err := rec.WriteFile(filepath.Join(dir, "container.json")); err != nil {
		t.Fatal(err)
	}

	// libc is not in the root yet: a note, an incomplete program.
	reps := reachableJSON(t, dir, "container.json")
	if reps[0].Root != rootfs || len(reps[0].Programs) != 1 || reps[0].Programs[0].Complete {
		t.Fatalf("root %q, programs %+v: want %s, one incomplete program", reps[0].Root, reps[0].Programs, rootfs)
	}
	if !slices.ContainsFunc(reps[0].Notes, func(n string) bool { return strings.Contains(n, "libc.so.6 (needed by ") }) {
		t.Errorf("notes %q lack libc.so.6's", reps[0].Notes)
	}

	cp("/lib/x86_64-linux-gnu/libc.so.6", "lib/x86_64-linux-gnu/libc.so.6")
	reps = reachableJSON(t, dir, "container.json")
	p := reps[0].Programs[0]
	if !p.Complete || p.Path != "/app/rwloop" {
		t.Fatalf("program %+v", p)
	}
	for _, o := range p.Objects {
		if o != "[vdso]" && !strings.HasPrefix(o, rootfs+"/") {
			t.Errorf("object %s analysed outside the container's root %s", o, rootfs)
		}
	}
	checkReachReport(t, reps[0], rec, "/app/rwloop")

	// An executable from a bind mount is not in the root as the host sees
	// it: a note beside the one analysed, an error alone.
	rec.Syscalls[0].Exes = []string{"/app/rwloop", "/w/bound"}
	if err := rec.WriteFile(filepath.Join(dir, "bound.json")); err != nil {
		t.Fatal(err)
	}
	reps = reachableJSON(t, dir, "bound.json")
	want := "/w/bound: not analysed: not in the root filesystem " + rootfs + " (a volume or bind mount"
	if !slices.ContainsFunc(reps[0].Notes, func(n string) bool { return strings.HasPrefix(n, want) }) {
		t.Errorf("notes %q lack %q", reps[0].Notes, want)
	}
	for i := range rec.Syscalls {
		if len(rec.Syscalls[i].Exes) > 0 {
			rec.Syscalls[i].Exes = []string{"/w/bound"}
		}
	}
	if err := rec.WriteFile(filepath.Join(dir, "bound.json")); err != nil {
		t.Fatal(err)
	}
	r := runProfgen(t, dir, "reachable", "bound.json")
	if r.code != 1 || !strings.HasPrefix(r.stderr, "profgen: bound.json: nothing could be analysed: "+want) || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("a bound executable alone: exit %d, %q", r.code, r.stderr)
	}
}
