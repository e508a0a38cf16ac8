package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/internal/runc"
	"github.com/profgen/profgen/internal/workload"
	"github.com/profgen/profgen/recording"
)

// threadsBundle writes a bundle that runs the threads workload (four
// pthreads: glibc's pthread_create calls clone3) under seccomp profile p,
// with annotations ann.
func threadsBundle(t *testing.T, p *specs.LinuxSeccomp, ann map[string]string) *runc.Bundle {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("runc needs root")
	}
	bin := workload.Build(t, "multiproc/threads.c")
	b, err := runc.NewBundle(filepath.Join(t.TempDir(), "bundle"), runc.BundleOptions{Args: []string{bin, "4"}, Seccomp: p})
	if err != nil {
		t.Fatal(err)
	}
	if ann != nil {
		setAnnotations(t, b.Dir, ann)
	}
	return b
}

// setAnnotations adds ann to the bundle's config.json.
func setAnnotations(t *testing.T, bundle string, ann map[string]string) {
	t.Helper()
	path := filepath.Join(bundle, "config.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var spec specs.Spec
	if err := json.Unmarshal(data, &spec); err != nil {
		t.Fatal(err)
	}
	spec.Annotations = ann
	if data, err = json.MarshalIndent(&spec, "", "  "); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// recordDirect runs bundle b through the wrapper as an engine would
// (create, start, wait until it stopped, delete) and returns the
// recording.
func recordDirect(t *testing.T, w *directWrapper, b *runc.Bundle, id string) *recording.Recording {
	t.Helper()
	if out, err := w.run("create", "--bundle", b.Dir, id); err != nil {
		t.Fatalf("create: %v\n%s", err, out)
	}
	defer w.run("delete", "--force", id)
	if out, err := w.run("start", id); err != nil {
		t.Fatalf("start: %v\n%s", err, out)
	}
	waitFor(t, "the container to stop", func() bool {
		out, _ := exec.Command("runc", "--root", w.root, "state", id).Output()
		return strings.Contains(string(out), `"stopped"`)
	})
	if out, err := w.run("delete", id); err != nil {
		t.Fatalf("delete: %v\n%s", err, out)
	}
	rec, err := recording.ReadFile(filepath.Join(w.dir, id+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// allNamesBut returns every syscall name of the native ABI except those
// given.
func allNamesBut(t *testing.T, except ...string) []string {
	t.Helper()
	arch, err := abi.Native()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for nr := range 1024 {
		if name, err := abi.SyscallName(arch, nr); err == nil && !slices.Contains(except, name) {
			names = append(names, name)
		}
	}
	return names
}

// TestRuncEngineSeccomp: a container whose config.json carries an
// enforcing profile (default errno EPERM; clone3 answered ENOSYS, as
// Docker's default does; futex allowed only for FUTEX_WAIT; sched_yield
// killing the process) is recorded under its log-only copy: the
// recording holds every call the workload made (clone3, getcpu,
// futex(FUTEX_WAKE), sched_yield), and engineProfile names each with the
// action the engine's profile would have taken; the bundle's config.json
// was rewritten before create (default SCMP_ACT_LOG, the refusing entries
// gone) and nothing else in it changed.
func TestRuncEngineSeccomp(t *testing.T) {
	enosys, inval := uint(38), uint(22)
	prof := &specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno,
		Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
		Syscalls: []specs.LinuxSyscall{
			{Names: allNamesBut(t, "clone3", "getcpu", "futex", "sched_yield", "personality"), Action: specs.ActAllow},
			{Names: []string{"futex"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 1, Value: 0x7f, ValueTwo: 0, Op: specs.OpMaskedEqual}}},
			{Names: []string{"clone3"}, Action: specs.ActErrno, ErrnoRet: &enosys},
			{Names: []string{"sched_yield"}, Action: specs.ActKillProcess},
			{Names: []string{"personality"}, Action: specs.ActErrno, ErrnoRet: &inval},
		},
	}
	b := threadsBundle(t, prof, nil)
	before, err := os.ReadFile(filepath.Join(b.Dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	w := newDirectWrapper(t)
	id := "profgen-seccomp-" + filepath.Base(t.TempDir())
	rec := recordDirect(t, w, b, id)

	for _, name := range []string{"clone3", "getcpu", "sched_yield", "futex"} {
		if rec.Lookup(name) == nil {
			t.Errorf("the recording misses %s: %v", name, rec.Names())
		}
	}
	e := rec.EngineProfile
	if e == nil {
		t.Fatalf("no engineProfile in the recording; notes %q", rec.Notes)
	}
	if e.DefaultAction != "SCMP_ACT_ERRNO" || e.DefaultErrno != 1 || e.Enforced || e.Unjudged != "" {
		t.Errorf("engine profile %+v", e)
	}
	want := map[string]string{
		"clone3":      fmt.Sprintf("SCMP_ACT_ERRNO 38 ENOSYS [] false %d", rec.Lookup("clone3").Count),
		"getcpu":      "SCMP_ACT_ERRNO 1 EPERM [] false 40",
		"sched_yield": "SCMP_ACT_KILL_PROCESS 0  [] false 40",
	}
	// futex: each recorded op but FUTEX_WAIT (0), with its values.
	for _, sh := range rec.Lookup("futex").Shapes {
		if sh.Values[0]&0x7f != 0 {
			want[fmt.Sprint("futex ", sh.Values)] = fmt.Sprintf("SCMP_ACT_ERRNO 1 EPERM %v false %d", sh.Values, sh.Count)
		}
	}
	if _, ok := want["futex [1]"]; !ok {
		t.Errorf("no FUTEX_WAKE recorded: %+v", rec.Lookup("futex"))
	}
	got := map[string]string{}
	for _, f := range e.Refused {
		key := f.Name
		if f.Values != nil {
			key = fmt.Sprint(f.Name, " ", f.Values)
		}
		if _, dup := got[key]; dup {
			t.Errorf("%s refused twice: %+v", key, e.Refused)
		}
		got[key] = fmt.Sprintf("%s %d %s %v %v %d", f.Action, f.Errno, f.ErrnoName, f.Values, f.Maybe, f.Count)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("refused:\n  %v\nwant\n  %v", got, want)
	}
	if !slices.ContainsFunc(rec.Notes, func(n string) bool {
		return strings.Contains(n, "log-only copy of its engine's seccomp profile") && strings.Contains(n, "clone3")
	}) {
		t.Errorf("no note on the engine's profile: %q", rec.Notes)
	}

	// The bundle: seccomp rewritten, the rest as it was.
	after, err := os.ReadFile(filepath.Join(b.Dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var was, is specs.Spec
	if json.Unmarshal(before, &was) != nil || json.Unmarshal(after, &is) != nil {
		t.Fatalf("config.json:\n%s", after)
	}
	s := is.Linux.Seccomp
	if s.DefaultAction != specs.ActLog || s.DefaultErrnoRet != nil || len(s.Syscalls) != 2 ||
		s.Syscalls[0].Action != specs.ActAllow || s.Syscalls[1].Names[0] != "futex" || !slices.Equal(s.Architectures, prof.Architectures) {
		t.Errorf("rewritten seccomp: %+v", s)
	}
	is.Linux.Seccomp, was.Linux.Seccomp = nil, nil
	if a, b := mustJSON(t, was), mustJSON(t, is); !bytes.Equal(a, b) {
		t.Errorf("config.json changed besides linux.seccomp:\n%s\n%s", a, b)
	}
}

// TestRuncKeepSeccomp: with io.profgen.keep-seccomp=true the engine's
// profile stays in force: config.json is left byte for byte, the recording
// has no clone3 (refused with ENOSYS, glibc fell back to clone), and it
// says so: engineProfile.enforced and a note that the calls it refused
// are missing.
func TestRuncKeepSeccomp(t *testing.T) {
	enosys := uint(38)
	prof := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"clone3"}, Action: specs.ActErrno, ErrnoRet: &enosys}},
	}
	b := threadsBundle(t, prof, map[string]string{AnnotationKeepSeccomp: "true"})
	before, err := os.ReadFile(filepath.Join(b.Dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	w := newDirectWrapper(t)
	rec := recordDirect(t, w, b, "profgen-keep-"+filepath.Base(t.TempDir()))
	if after, _ := os.ReadFile(filepath.Join(b.Dir, "config.json")); !bytes.Equal(before, after) {
		t.Errorf("config.json was changed:\n%s", after)
	}
	if rec.Lookup("clone3") != nil || rec.Lookup("clone") == nil {
		t.Errorf("under the kept profile: clone3 %v, clone %v", rec.Lookup("clone3"), rec.Lookup("clone"))
	}
	if e := rec.EngineProfile; e == nil || !e.Enforced || e.DefaultAction != "SCMP_ACT_ALLOW" || len(e.Refused) != 0 {
		t.Errorf("engine profile %+v", e)
	}
	if !slices.ContainsFunc(rec.Notes, func(n string) bool {
		return strings.Contains(n, AnnotationKeepSeccomp+"=true") && strings.Contains(n, "missing from this recording")
	}) {
		t.Errorf("no note that refused calls are missing: %q", rec.Notes)
	}
}

// TestKeepSeccompBadValue: an annotation value other than true or false
// fails create with one line naming it, and leaves config.json alone.
func TestKeepSeccompBadValue(t *testing.T) {
	b := threadsBundle(t, &specs.LinuxSeccomp{DefaultAction: specs.ActErrno}, map[string]string{AnnotationKeepSeccomp: "yes"})
	before, _ := os.ReadFile(filepath.Join(b.Dir, "config.json"))
	w := newDirectWrapper(t)
	id := "profgen-keepbad-" + filepath.Base(t.TempDir())
	out, err := w.run("create", "--bundle", b.Dir, id)
	if err == nil || strings.Count(out, "\n") != 1 || !strings.Contains(out, "annotation io.profgen.keep-seccomp=yes: want true or false") {
		t.Errorf("create: %v\n%s", err, out)
		w.run("delete", "--force", id)
	}
	if after, _ := os.ReadFile(filepath.Join(b.Dir, "config.json")); !bytes.Equal(before, after) {
		t.Errorf("config.json was changed")
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRuncExitStatus: the recording holds the entrypoint's exit status
// (the recorder is not its parent: the kernel keeps it for the recorder's
// pidfd); an entrypoint that exits 3 at once is flagged as a failed start,
// one that exits 0 is not.
func TestRuncExitStatus(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("runc needs root")
	}
	for _, tc := range []struct {
		script string
		code   int
		signal string
		early  bool
	}{
		{"exit 3", 3, "", true},
		{"exit 0", 0, "", false},
		{"sleep 1.2; exit 4", 4, "", false},
	} {
		t.Run(tc.script, func(t *testing.T) {
			b, err := runc.NewBundle(filepath.Join(t.TempDir(), "bundle"), runc.BundleOptions{Args: []string{"/bin/sh", "-c", tc.script}})
			if err != nil {
				t.Fatal(err)
			}
			w := newDirectWrapper(t)
			rec := recordDirect(t, w, b, "profgen-exit-"+filepath.Base(t.TempDir()))
			if rec.Exit.Code != tc.code || rec.Exit.Signal != tc.signal {
				t.Errorf("exit %+v, want code %d signal %q", rec.Exit, tc.code, tc.signal)
			}
			early := slices.ContainsFunc(rec.Notes, func(n string) bool { return strings.Contains(n, "failed start") })
			if early != tc.early {
				t.Errorf("flagged as a failed start: %v, want %v; notes %q", early, tc.early, rec.Notes)
			}
		})
	}
}
