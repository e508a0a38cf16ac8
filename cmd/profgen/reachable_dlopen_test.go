package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/profgen/profgen/internal/workload"
	"github.com/profgen/profgen/recording"
)

// recordDlplugin records the bundled dlplugin loading its plug-in into
// dir/name, with further flags of record, and returns the recording, the
// executable and the plug-in.
func recordDlplugin(t *testing.T, dir, name string, flags ...string) (*recording.Recording, string, string) {
	t.Helper()
	exe := workload.Build(t, "dlplugin/dlplugin.c")
	so := workload.BuildShared(t, "dlplugin/plugin.c")
	args := append(append([]string{"record", "-o", name}, flags...), "--", exe, so)
	if r := runProfgen(t, dir, args...); r.code != 0 {
		t.Fatalf("record %v: exit %d: %s", flags, r.code, r.stderr)
	}
	rec, err := recording.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return rec, exe, so
}

// copyExe copies the executable src to dst, another file of the same
// content (recorded under its own path), and returns dst.
func copyExe(t *testing.T, src, dst string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestReachableDlopen records the bundled dlplugin loading its plug-in
// with dlopen(3): from the recording, profgen reachable follows the
// plug-in (loaded at run time, seen in the recording), so the getpriority
// only the plug-in's code makes is reachable and recorded; the executable
// alone, or a recording without file paths, notes that dlopen is not
// followed and lists the plug-in's call as a gap.
func TestReachableDlopen(t *testing.T) {
	dir := t.TempDir()
	rec, exe, so := recordDlplugin(t, dir, "rec.json")
	if !slices.ContainsFunc(rec.Syscalls, func(s recording.Syscall) bool { return s.Name == "getpriority" }) {
		t.Fatalf("the recording lacks the plug-in's getpriority: the plug-in did not run")
	}
	rep := reachableJSON(t, dir, "rec.json")[0]
	checkReachReport(t, rep, rec, exe)
	if !slices.Contains(rep.Reachable, "getpriority") {
		t.Errorf("getpriority, made by the plug-in loaded at run time, not reachable")
	}
	p := rep.Programs[0]
	if !slices.Equal(p.RunTime, []string{so}) || !slices.Equal(p.Dlopen, []string{exe}) {
		t.Errorf("loadedAtRunTime %v, dlopen %v; want [%s], [%s]", p.RunTime, p.Dlopen, so, exe)
	}
	text := runProfgen(t, dir, "reachable", "rec.json")
	want := "note: " + exe + ": loaded at run time, seen in the recording (analysed from their exported functions): " + so +
		"; libraries loaded only on paths the drive did not take are not followed (dlopen imported by " + exe + ")\n"
	if text.code != 0 || !strings.Contains(text.stdout, want) {
		t.Errorf("text output (exit %d) lacks %q:\n%s%s", text.code, want, text.stdout, text.stderr)
	}

	// The executable alone: dlopen noted, the plug-in's call not reachable.
	alone := reachableJSON(t, dir, exe)[0]
	if slices.Contains(alone.Reachable, "getpriority") {
		t.Errorf("getpriority reachable from %s alone", exe)
	}
	notFollowed := exe + ": libraries loaded at run time are not followed (dlopen imported by " + exe + "): record with the ebpf backend"
	if !slices.ContainsFunc(alone.Notes, func(n string) bool { return strings.HasPrefix(n, notFollowed) }) {
		t.Errorf("EXE alone: no note %q: %q", notFollowed, alone.Notes)
	}

	// An EXE argument beside the recording, which never ran it: what it
	// loads is not known, whatever the recording saw.
	other := copyExe(t, exe, filepath.Join(dir, "other"))
	beside := reachableJSON(t, dir, "rec.json", other)[0]
	notFollowedOther := other + ": libraries loaded at run time are not followed (dlopen imported by " + other + "): record with the ebpf backend"
	if len(beside.Programs) != 2 || !slices.ContainsFunc(beside.Notes, func(n string) bool { return strings.HasPrefix(n, notFollowedOther) }) {
		t.Errorf("EXE beside the recording: programs %d, no note %q: %q", len(beside.Programs), notFollowedOther, beside.Notes)
	}

	// A recording without the landlock section: the same note, and the
	// plug-in's call listed as recorded but not reachable.
	recordDlplugin(t, dir, "nopaths.json", "--landlock=false")
	np := reachableJSON(t, dir, "nopaths.json")[0]
	if !slices.ContainsFunc(np.Notes, func(n string) bool { return strings.HasPrefix(n, notFollowed) }) {
		t.Errorf("recording without paths: no note %q: %q", notFollowed, np.Notes)
	}
	if !slices.ContainsFunc(np.NotReachable, func(n notReached) bool { return n.Name == "getpriority" }) {
		t.Errorf("recording without paths: getpriority not listed as recorded but not reachable: %+v", np.NotReachable)
	}
}

// TestReachableDlopenAttribution records a shell that runs dlplugin and a
// copy of it, both loading the plug-in, and true: the plug-in is analysed
// with each program that loaded it (the executables of its access), never
// with the shell or true.
func TestReachableDlopenAttribution(t *testing.T) {
	dir := t.TempDir()
	exe := workload.Build(t, "dlplugin/dlplugin.c")
	so := workload.BuildShared(t, "dlplugin/plugin.c")
	exe2 := copyExe(t, exe, filepath.Join(dir, "dlplugin2"))
	sh, truePath := "/usr/bin/dash", "/usr/bin/true"
	script := exe + " " + so + " && " + exe2 + " " + so + " && " + truePath
	if r := runProfgen(t, dir, "record", "-o", "rec.json", "--", sh, "-c", script); r.code != 0 {
		t.Fatalf("record: exit %d: %s", r.code, r.stderr)
	}
	rep := reachableJSON(t, dir, "rec.json")[0]
	got := map[string][]string{}
	for _, p := range rep.Programs {
		got[p.Path] = p.RunTime
	}
	for _, e := range []string{exe, exe2} {
		if !slices.Equal(got[e], []string{so}) {
			t.Errorf("%s: loaded at run time %v, want [%s] (programs %v)", e, got[e], so, got)
		}
	}
	for _, e := range []string{sh, truePath} {
		if rt, ok := got[e]; !ok || len(rt) != 0 {
			t.Errorf("%s: analysed %v, loaded at run time %v; want analysed, nothing loaded", e, ok, rt)
		}
	}
	if !slices.Contains(rep.Reachable, "getpriority") {
		t.Errorf("getpriority not reachable")
	}
}

// TestReachableDlopenContainerRoot: in a container recording, the files
// the recording saw read are the container's paths, resolved inside its
// root filesystem as the executables and their libraries are. The
// recording of dlplugin is made on the host and given a container's
// paths and bundle.
func TestReachableDlopenContainerRoot(t *testing.T) {
	dir := t.TempDir()
	rec, exe, so := recordDlplugin(t, dir, "host.json")
	const inExe, inSO = "/app/dlplugin", "/opt/plugins/plugin.so"
	for i := range rec.Syscalls {
		if len(rec.Syscalls[i].Exes) > 0 {
			rec.Syscalls[i].Exes = []string{inExe}
		}
	}
	sec, err := recording.ParseLandlock(rec.Sections[recording.LandlockKind])
	if err != nil {
		t.Fatal(err)
	}
	for i := range sec.Accesses {
		a := &sec.Accesses[i]
		a.Exes = []string{inExe}
		switch a.Path {
		case so:
			a.Path = inSO
		case exe:
			a.Path = inExe
		}
	}
	sec.Normalize()
	if rec.Sections[recording.LandlockKind], err = json.Marshal(sec); err != nil {
		t.Fatal(err)
	}
	bundle := filepath.Join(dir, "bundle")
	rootfs := filepath.Join(bundle, "rootfs")
	// A merged-/usr image, as the host's: the kernel names the libraries
	// the loader opened by their /usr/lib paths.
	for src, dst := range map[string]string{exe: inExe, so: inSO,
		"/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2": "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
		"/lib/x86_64-linux-gnu/libc.so.6":            "/usr/lib/x86_64-linux-gnu/libc.so.6"} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(rootfs, dst)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(rootfs, dst), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{"lib": "usr/lib", "lib64": "usr/lib64",
		"usr/lib64/ld-linux-x86-64.so.2": "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(rootfs, link)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, filepath.Join(rootfs, link)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), []byte(`{"ociVersion": "1.0.2", "root": {"path": "rootfs"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	rec.Container = &recording.Container{ID: "c3", Bundle: bundle, Engine: "unknown", Runtime: "/usr/bin/runc"}
	if err := rec.WriteFile(filepath.Join(dir, "container.json")); err != nil {
		t.Fatal(err)
	}
	rep := reachableJSON(t, dir, "container.json")[0]
	if rep.Root != rootfs || len(rep.Programs) != 1 {
		t.Fatalf("root %q, programs %+v", rep.Root, rep.Programs)
	}
	p := rep.Programs[0]
	if want := filepath.Join(rootfs, inSO); !slices.Equal(p.RunTime, []string{want}) || !p.Complete {
		t.Errorf("loaded at run time %v (complete %v, notes %q), want [%s]", p.RunTime, p.Complete, p.Notes, want)
	}
	if !slices.Contains(rep.Reachable, "getpriority") {
		t.Errorf("getpriority not reachable")
	}
	checkReachReport(t, rep, rec, inExe)

	// libc gone from the root (a bind mount the host does not see there):
	// one note, the loader's, not a second for the recording's read of it.
	if err := os.Remove(filepath.Join(rootfs, "usr/lib/x86_64-linux-gnu/libc.so.6")); err != nil {
		t.Fatal(err)
	}
	rep = reachableJSON(t, dir, "container.json")[0]
	libc := 0
	for _, n := range rep.Notes {
		if strings.Contains(n, "libc.so.6") {
			libc++
		}
	}
	if libc != 1 || rep.Programs[0].Complete {
		t.Errorf("libc gone: %d notes name it (want the loader's alone), complete %v: %q", libc, rep.Programs[0].Complete, rep.Notes)
	}
}

// TestReachablePostgresRunuser records postgres 15 started through
// runuser, which loads its PAM modules with dlopen(3): pam_limits.so's
// getpriority and setpriority, recorded, were the analysis's one gap
// (docs/reachable.md); from the recording pam_limits.so is followed, as a
// library runuser loaded at run time, and nothing recorded is left
// unreachable but what the kernel or the launcher made.
func TestReachablePostgresRunuser(t *testing.T) {
	bins, err := filepath.Glob("/usr/lib/postgresql/*/bin")
	if err != nil || len(bins) == 0 {
		t.Fatalf("postgresql: no /usr/lib/postgresql/*/bin (scripts/deps.sh installs it)")
	}
	bin := bins[len(bins)-1]
	runuser, err := exec.LookPath("runuser")
	if err != nil {
		t.Fatalf("runuser: %v (util-linux)", err)
	}
	dir := t.TempDir()
	// The postgres user reaches its data through the test's directory.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := exec.Command(runuser, "-u", "postgres", "--", filepath.Join(bin, "initdb"), "-D", data, "--auth=trust").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v: %s", err, out)
	}
	port := freePort(t)
	drive := fmt.Sprintf("psql -h 127.0.0.1 -p %s -U postgres -c 'CREATE TABLE t (a int); INSERT INTO t VALUES (1); SELECT * FROM t;'", port)
	if r := runProfgen(t, dir, "record", "-o", "pg.json", "--ready", "tcp:127.0.0.1:"+port, "--drive", drive, "--",
		runuser, "-u", "postgres", "--", filepath.Join(bin, "postgres"), "-D", data, "-p", port, "-k", dir, "-c", "listen_addresses=127.0.0.1"); r.code != 0 {
		t.Fatalf("record: exit %d: %s", r.code, r.stderr)
	}
	rec, err := recording.ReadFile(filepath.Join(dir, "pg.json"))
	if err != nil {
		t.Fatal(err)
	}
	recorded := map[string]bool{}
	for _, s := range rec.Syscalls {
		recorded[s.Name] = true
	}
	if !recorded["getpriority"] || !recorded["setpriority"] {
		t.Fatalf("the recording lacks pam_limits's getpriority and setpriority: runuser did not open its PAM session")
	}
	rep := reachableJSON(t, dir, "pg.json")[0]
	var loaded []string
	for _, p := range rep.Programs {
		if p.Path == runuser || strings.HasSuffix(p.Path, "/runuser") {
			loaded = p.RunTime
		}
	}
	if !slices.ContainsFunc(loaded, func(o string) bool { return strings.HasSuffix(o, "/security/pam_limits.so") }) {
		t.Errorf("runuser: pam_limits.so not among the libraries loaded at run time %v (programs %d)", loaded, len(rep.Programs))
	}
	for _, n := range rep.NotReachable {
		if n.KernelMade == "" && n.Start == "" {
			t.Errorf("recorded %s not reachable: a gap in the analysis", n.Name)
		}
	}
	for _, s := range []string{"getpriority", "setpriority"} {
		if !slices.Contains(rep.Reachable, s) {
			t.Errorf("%s, made by pam_limits.so, not reachable", s)
		}
	}
}
