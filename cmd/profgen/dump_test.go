package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/profgen/profgen/explain"
	"github.com/profgen/profgen/filter"
	"github.com/profgen/profgen/internal/seccomp"
	"github.com/profgen/profgen/internal/testenv"
	"github.com/profgen/profgen/readers"
)

// filteredChild returns the pid of the child of parent named comm once it
// runs under a seccomp filter, polling for at most a minute.
func filteredChild(t *testing.T, parent int, comm string) int {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", parent))
		for _, task := range tasks {
			data, _ := os.ReadFile(task)
			for _, f := range strings.Fields(string(data)) {
				pid, _ := strconv.Atoi(f)
				c, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
				if strings.TrimSpace(string(c)) != comm {
					continue
				}
				if st, err := seccomp.ReadStatus(pid); err == nil && st.Mode == 2 {
					return pid
				}
			}
		}
	}
	t.Fatalf("no child %q of %d under a seccomp filter", comm, parent)
	return 0
}

func explainJSON(t *testing.T, dir, file string) explain.Report {
	t.Helper()
	r := runProfgen(t, dir, "explain", "--json", file)
	if r.code != 0 {
		t.Fatalf("explain %s: exit %d: %s", file, r.code, r.stderr)
	}
	var rep explain.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	return rep
}

func allowedNames(r explain.Report) []string {
	out := slices.Clone(r.Allowed)
	for _, c := range r.Conditional {
		out = append(out, c.Name)
	}
	slices.Sort(out)
	return out
}

// TestDumpEmittedFilter: a process running under a profile profgen
// emitted (through live replay's launcher) dumps, and explain of the dump
// lists exactly the syscalls the profile allows.
func TestDumpEmittedFilter(t *testing.T) {
	dir := t.TempDir()
	if r := runProfgen(t, dir, "record", "-o", "rec.json", "--", "sleep", "0.1"); r.code != 0 {
		t.Fatalf("record: exit %d: %s", r.code, r.stderr)
	}
	if r := runProfgen(t, dir, "emit", "--format", "oci", "--runtime", "none", "-o", "seccomp.json", "rec.json"); r.code != 0 {
		t.Fatalf("emit: exit %d: %s", r.code, r.stderr)
	}
	replay := exec.Command(buildProfgen(t), "replay", "--runtime", "none", "--profile", "seccomp.json", "--", "sleep", "60")
	replay.Dir = dir
	if err := replay.Start(); err != nil {
		t.Fatal(err)
	}
	pid := filteredChild(t, replay.Process.Pid, "sleep")
	defer func() {
		syscall.Kill(pid, syscall.SIGKILL)
		replay.Wait()
	}()

	if _, err := seccomp.GetFilter(pid, 0); err != nil {
		testenv.FilterReadback(t, err) // the kernel must be able to read it back
	}
	r := runProfgen(t, dir, "dump", "--pid", strconv.Itoa(pid), "-o", "filter.bpf")
	if r.code != 0 {
		t.Fatalf("dump: exit %d: %s", r.code, r.stderr)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "filter.bpf"))
	if err != nil || len(raw) == 0 || len(raw)%8 != 0 {
		t.Fatalf("filter.bpf: %d bytes, %v", len(raw), err)
	}
	p, err := readers.ReadOCIFile(filepath.Join(dir, "seccomp.json"))
	if err != nil {
		t.Fatal(err)
	}
	// Live replay's launcher loads the hot-first program (an OCI profile
	// carries no counts: the argument-checked syscalls first, by name).
	prog, err := seccomp.DecodeFilter(raw)
	if err != nil {
		t.Fatal(err)
	}
	if hot, err := filter.CompileHot(p, p.Counts(), filter.CompileOptions{}); err != nil || !slices.Equal(prog, hot) {
		t.Errorf("the launcher loaded %d instructions, not the hot-first program (%d instructions, %v)", len(prog), len(hot), err)
	}
	dumped := explainJSON(t, dir, "filter.bpf")
	if got, want := allowedNames(dumped), p.Allowed(); !slices.Equal(got, want) {
		t.Errorf("explain of the dump allows\n%v\nthe profile allows\n%v", got, want)
	}
	if dumped.Kind != explain.KindBPF || dumped.Instructions != len(raw)/8 || dumped.DefaultAction.Name != seccomp.ActErrno {
		t.Errorf("dump explained as %s, %d instructions, default %s", dumped.Kind, dumped.Instructions, dumped.DefaultAction)
	}
	// The profile itself explains alike.
	if fromProfile := explainJSON(t, dir, "seccomp.json"); !slices.Equal(allowedNames(fromProfile), allowedNames(dumped)) {
		t.Errorf("profile explains as %v, its dump as %v", allowedNames(fromProfile), allowedNames(dumped))
	}
	// The process still runs, unstopped, after the dump.
	if st, err := seccomp.ReadStatus(pid); err != nil || st.Mode != 2 {
		t.Errorf("after dump: %+v %v", st, err)
	}

	text := runProfgen(t, dir, "dump", "--pid", strconv.Itoa(pid), "--format", "text")
	for _, want := range []string{"syscall number", "nanosleep", "errno(EPERM)", "allow", "amd64"} {
		if !strings.Contains(text.stdout, want) {
			t.Errorf("text dump lacks %q:\n%s", want, text.stdout)
		}
	}
}

func TestDumpErrors(t *testing.T) {
	dir := t.TempDir()
	sleep := exec.Command("sleep", "60")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { sleep.Process.Kill(); sleep.Wait() }()
	pid := strconv.Itoa(sleep.Process.Pid)
	assertOneLineError(t, runProfgen(t, dir, "dump", "--pid", pid, "-o", "f.bpf"), dir, "runs without seccomp")
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	assertOneLineError(t, runProfgen(t, dir, "dump", "--pid", strconv.Itoa(gone.Process.Pid), "-o", "f.bpf"), dir, "no such process")
	assertOneLineError(t, runProfgen(t, dir, "dump"), dir, "dump needs --pid")
	assertOneLineError(t, runProfgen(t, dir, "dump", "--pid", pid, "--format", "hex"), dir, `--format "hex"`)

	// Without CAP_SYS_ADMIN: setpriv drops it from every set.
	bin := buildProfgen(t)
	cmd := exec.Command("setpriv", "--inh-caps=-sys_admin", "--bounding-set=-sys_admin", bin, "dump", "--pid", pid, "-o", "f.bpf")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "needs CAP_SYS_ADMIN") || strings.Count(strings.TrimSpace(string(out)), "\n") != 0 {
		t.Errorf("without CAP_SYS_ADMIN: %v, %q", err, out)
	}
}

// TestDumpRawToTerminal: --format raw is refused on a terminal (the check
// emit --format bpf shares), with or without -o -.
func TestDumpRawToTerminal(t *testing.T) {
	for _, args := range [][]string{
		{"dump", "--pid", "1", "--format", "raw"},
		{"dump", "--pid", "1", "--format", "raw", "-o", "-"},
	} {
		dir := t.TempDir()
		assertFailedCleanly(t, runProfgenTTY(t, dir, args...), dir, "--format raw writes binary: give -o FILE or redirect standard output")
	}
}
