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

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/runc"
	"github.com/profgen/profgen/internal/workload"
	"github.com/profgen/profgen/recording"
)

func TestParseArgs(t *testing.T) {
	inv, err := parseArgs([]string{"--root", "/r", "--log=/l", "--log-format", "json", "--profgen-runtime", "/x/crun",
		"--systemd-cgroup", "--profgen-record-dir=/d", "create", "--bundle", "/b", "--pid-file=/p", "--console-socket", "/s", "id1"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"--root", "/r", "--log=/l", "--log-format", "json", "--systemd-cgroup"}; !slices.Equal(inv.global, want) {
		t.Errorf("global %q, want %q", inv.global, want)
	}
	if inv.command != "create" || inv.runtime != "/x/crun" || inv.recordDir != "/d" || inv.logPath != "/l" || inv.logFormat != "json" {
		t.Errorf("parsed %+v", inv)
	}
	ca, err := parseCreate(inv.rest)
	if err != nil {
		t.Fatal(err)
	}
	if *ca != (createArgs{bundle: "/b", pidFile: "/p", id: "id1"}) {
		t.Errorf("create args %+v", *ca)
	}
	// Single-dash flags, as urfave/cli accepts them.
	if ca, err := parseCreate([]string{"-b", "/b2", "--no-pivot", "id2"}); err != nil || ca.bundle != "/b2" || ca.id != "id2" {
		t.Errorf("parseCreate -b: %+v, %v", ca, err)
	}
	for _, bad := range [][]string{{"--profgen-runtime"}, {"--root"}, {"--profgen-record-dir="}} {
		if _, err := parseArgs(bad); err == nil {
			t.Errorf("parseArgs(%q) accepted", bad)
		}
	}
	if _, err := parseCreate([]string{"--bundle", "/b"}); err == nil {
		t.Error("create without a container id accepted")
	}
}

// wrapperBin builds profgen-runc once (with the podman tests' environment
// when it exists).
func wrapperBin(t *testing.T) string {
	t.Helper()
	if env != nil {
		return env.wrapper
	}
	out := filepath.Join(t.TempDir(), "profgen-runc")
	if b, err := exec.Command("go", "build", "-o", out, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, b)
	}
	return out
}

// TestWrapperBadInput: one-line errors for a runtime that does not exist
// and for run, which the wrapper cannot record.
func TestWrapperBadInput(t *testing.T) {
	bin := wrapperBin(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--profgen-runtime", "/nonexistent/runc", "state", "x"}, "profgen-runc: --profgen-runtime /nonexistent/runc: no such executable\n"},
		{[]string{"--profgen-runtime", bin, "state", "x"}, "is profgen-runc itself"},
		{[]string{"run", "x"}, "run is not supported with recording"},
		{[]string{"--profgen-runtime"}, "profgen-runc: flag --profgen-runtime needs a value\n"},
	} {
		cmd := exec.Command(bin, tc.args...)
		b, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(b), tc.want) || strings.Count(string(b), "\n") != 1 {
			t.Errorf("profgen-runc %q: %v, output %q; want one line with %q", tc.args, err, b, tc.want)
		}
	}
}

// newRuncBundle writes a bundle that runs manycalls N.
func newRuncBundle(t *testing.T, n string) *runc.Bundle {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("runc needs root")
	}
	bin := workload.Build(t, "manycalls")
	b, err := runc.NewBundle(filepath.Join(t.TempDir(), "bundle"), runc.BundleOptions{Args: []string{bin, n}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// directWrapper drives the wrapper as an engine would, with a runc root
// and a recording directory of its own.
type directWrapper struct {
	t              *testing.T
	bin, root, dir string
	// global are more global flags, after --root (--log ...).
	global []string
}

func newDirectWrapper(t *testing.T) *directWrapper {
	return &directWrapper{t: t, bin: wrapperBin(t), root: t.TempDir(), dir: t.TempDir()}
}

// run runs the wrapper with args and returns its output (stdout and
// stderr, through a file as an engine gives them: a pipe would be held
// open by the container).
func (w *directWrapper) run(args ...string) (string, error) {
	global := append([]string{"--root", w.root, "--profgen-record-dir", w.dir}, w.global...)
	cmd := exec.Command(w.bin, append(global, args...)...)
	f, err := os.Create(filepath.Join(w.t.TempDir(), "out"))
	if err != nil {
		w.t.Fatal(err)
	}
	defer f.Close()
	cmd.Stdout, cmd.Stderr = f, f
	err = cmd.Run()
	out, _ := os.ReadFile(f.Name())
	return string(out), err
}

// TestRuncDirect drives the wrapper as an engine would (create, start,
// delete) without podman and without the record annotation: the recording
// goes to DIR/ID.json, and is complete once delete returned.
func TestRuncDirect(t *testing.T) {
	b := newRuncBundle(t, "700")
	w := newDirectWrapper(t)
	root, dir := w.root, w.dir
	id := "profgen-direct-" + filepath.Base(t.TempDir())
	if out, err := w.run("create", "--bundle", b.Dir, id); err != nil {
		t.Fatalf("create: %v\n%s", err, out)
	}
	defer w.run("delete", "--force", id)
	if out, err := w.run("start", id); err != nil {
		t.Fatalf("start: %v\n%s", err, out)
	}
	waitFor(t, "the container to stop", func() bool {
		out, _ := exec.Command("runc", "--root", root, "state", id).Output()
		return strings.Contains(string(out), `"stopped"`)
	})
	if out, err := w.run("delete", id); err != nil {
		t.Fatalf("delete: %v\n%s", err, out)
	}
	rec, err := recording.ReadFile(filepath.Join(dir, id+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if s := rec.Lookup("getppid"); s == nil || s.Count != 700 {
		t.Errorf("getppid %+v, want count 700", s)
	}
	if c := rec.Container; c == nil || c.ID != id || c.Bundle != b.Dir || c.Engine != "unknown" {
		t.Errorf("container metadata %+v", c)
	}
	checkNoEngineCalls(t, rec)
}

// TestRuncCannotRecord: when the recorder cannot attach, create fails with
// its reason and the container is deleted, never left to run unrecorded.
func TestRuncCannotRecord(t *testing.T) {
	b := newRuncBundle(t, "1")
	w := newDirectWrapper(t)
	root, dir := w.root, w.dir
	id := "profgen-cannot-" + filepath.Base(t.TempDir())
	// Another recorder of the same id holds its lock.
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		t.Fatal(err)
	}
	lock, err := os.Create(lockPath(id))
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(lock.Name())
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	out, err := w.run("create", "--bundle", b.Dir, id)
	if err == nil || !strings.Contains(out, "cannot record the container") || !strings.Contains(out, "recorded twice") {
		t.Errorf("create with the recorder's lock taken: %v\n%s", err, out)
	}
	if state, err := exec.Command("runc", "--root", root, "state", id).CombinedOutput(); err == nil {
		t.Errorf("the container was left behind: %s", state)
		exec.Command("runc", "--root", root, "delete", "--force", id).Run()
	}
	if _, err := os.Stat(filepath.Join(dir, id+".json")); err == nil {
		t.Error("a recording was written")
	}
}

// TestRuncRecorderKilled: when the recorder of a created container died,
// start refuses to run the container unrecorded.
func TestRuncRecorderKilled(t *testing.T) {
	b := newRuncBundle(t, "1")
	w := newDirectWrapper(t)
	root, dir, wrap := w.root, w.dir, w.run
	id := "profgen-killed-" + filepath.Base(t.TempDir())
	if out, err := wrap("create", "--bundle", b.Dir, id); err != nil {
		t.Fatalf("create: %v\n%s", err, out)
	}
	defer wrap("delete", "--force", id)
	pids := recorderPids(filepath.Join(dir, id+".json"))
	if len(pids) != 1 {
		t.Fatalf("recorders: %v, want one", pids)
	}
	if err := unix.Kill(pids[0], unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the recorder to die", func() bool { return !recorderRunning(id) })
	out, err := wrap("start", id)
	if err == nil || !strings.Contains(out, "refusing to start it unrecorded") {
		t.Errorf("start without its recorder: %v\n%s", err, out)
	}
	if state, _ := exec.Command("runc", "--root", root, "state", id).Output(); !strings.Contains(string(state), `"created"`) {
		t.Errorf("the container is not left created: %s", state)
	}
	// delete removes the lock file the killed recorder left.
	if out, err := wrap("delete", "--force", id); err != nil {
		t.Fatalf("delete: %v\n%s", err, out)
	}
	if _, err := os.Stat(lockPath(id)); err == nil {
		t.Errorf("delete left the dead recorder's lock file %s", lockPath(id))
	}
}

// TestRuncRecorderInterrupted: SIGTERM to a recorder writes what it saw so
// far, marked interrupted.
func TestRuncRecorderInterrupted(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("runc needs root")
	}
	b, err := runc.NewBundle(filepath.Join(t.TempDir(), "bundle"), runc.BundleOptions{Args: []string{"sleep", "100"}})
	if err != nil {
		t.Fatal(err)
	}
	w := newDirectWrapper(t)
	root, dir := w.root, w.dir
	id := "profgen-interrupted-" + filepath.Base(t.TempDir())
	if out, err := w.run("create", "--bundle", b.Dir, id); err != nil {
		t.Fatalf("create: %v\n%s", err, out)
	}
	defer w.run("delete", "--force", id)
	if out, err := w.run("start", id); err != nil {
		t.Fatalf("start: %v\n%s", err, out)
	}
	out := filepath.Join(dir, id+".json")
	pids := recorderPids(out)
	if len(pids) != 1 {
		t.Fatalf("recorders: %v", pids)
	}
	var st struct{ Pid int }
	if data, err := exec.Command("runc", "--root", root, "state", id).Output(); err != nil || json.Unmarshal(data, &st) != nil {
		t.Fatalf("runc state: %v %s", err, data)
	}
	waitFor(t, "the container's init to exec sleep", func() bool {
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", st.Pid))
		return filepath.Base(exe) == "sleep"
	})
	if err := unix.Kill(pids[0], unix.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the recorder to exit", func() bool { return len(recorderPids(out)) == 0 })
	rec, err := recording.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !rec.Interrupted || rec.Lookup("execve") == nil {
		t.Errorf("interrupted %v, syscalls %v", rec.Interrupted, rec.Names())
	}
}
