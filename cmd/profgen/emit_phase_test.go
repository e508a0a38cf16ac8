package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/profgen/profgen/readers"
	"github.com/profgen/profgen/recording"
)

// phasedRecording is a server's recording with phases: execve, socket,
// bind and listen during start-up, accept4 and write while serving, read
// in both.
func phasedRecording(r *recording.Recording) {
	ready := int64(120)
	r.ReadyAtMs = &ready
	phase := func(startup, serving uint64) recording.Evidence {
		ph := map[string]uint64{}
		if startup > 0 {
			ph[recording.PhaseStartup] = startup
		}
		if serving > 0 {
			ph[recording.PhaseServing] = serving
		}
		return recording.Evidence{Exes: []string{"/srv/server"}, Phases: ph}
	}
	r.Syscalls = []recording.Syscall{
		{Name: "execve", Number: 59, Count: 1, Seen: 1, Evidence: phase(1, 0)},
		{Name: "socket", Number: 41, Count: 1, Seen: 1, Evidence: phase(1, 0)},
		{Name: "bind", Number: 49, Count: 1, Seen: 1, Evidence: phase(1, 0)},
		{Name: "listen", Number: 50, Count: 1, Seen: 1, Evidence: phase(1, 0)},
		{Name: "accept4", Number: 288, Count: 4, Seen: 1, Evidence: phase(0, 4)},
		{Name: "read", Number: 0, Count: 10, Seen: 1, Evidence: phase(2, 8)},
		{Name: "write", Number: 1, Count: 4, Seen: 1, Evidence: phase(0, 4)},
	}
}

// TestEmitPhase: emit --phase serving writes the serving phase's calls
// and the baseline, with no runtime's calls; --phase startup the others;
// a recording without phases, a runtime and an OCI profile input are
// refused with one line and no output.
func TestEmitPhase(t *testing.T) {
	dir := t.TempDir()
	rec := writeRecording(t, dir, "rec.json", phasedRecording)
	allowed := func(args ...string) []string {
		t.Helper()
		out := filepath.Join(dir, "p.json")
		os.Remove(out)
		r := runProfgen(t, dir, append([]string{"emit", "-q", "--format", "oci", "-o", out}, args...)...)
		if r.code != 0 {
			t.Fatalf("emit %v: exit %d: %s", args, r.code, r.stderr)
		}
		p, err := readers.ReadOCIFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return p.Allowed()
	}
	full := allowed(rec)
	serving := allowed("--phase", "serving", rec)
	startup := allowed("--phase", "startup", rec)
	for _, c := range []struct {
		name      string
		got       []string
		want, not []string
	}{
		{"full", full, []string{"execve", "bind", "accept4", "write", "exit_group"}, nil},
		{"serving", serving, []string{"accept4", "read", "write", "exit_group", "rt_sigreturn"}, []string{"execve", "socket", "bind", "listen"}},
		{"startup", startup, []string{"execve", "socket", "bind", "listen", "read", "exit_group"}, []string{"accept4", "write"}},
	} {
		for _, s := range c.want {
			if !slices.Contains(c.got, s) {
				t.Errorf("%s: %s not allowed: %v", c.name, s, c.got)
			}
		}
		for _, s := range c.not {
			if slices.Contains(c.got, s) {
				t.Errorf("%s: %s allowed: %v", c.name, s, c.got)
			}
		}
	}
	// runc's own calls (the full profile's default runtime) are not in
	// a phase's profile: only what the recording and the baseline hold.
	for _, s := range serving {
		if !slices.Contains(full, s) {
			t.Errorf("serving allows %s, which the full profile does not", s)
		}
	}
	if len(serving) >= len(full)-4 {
		t.Errorf("serving allows %d syscalls, the full profile %d: runc's calls added?", len(serving), len(full))
	}

	plain := writeRecording(t, dir, "plain.json", nil)
	oci := filepath.Join(dir, "p.json")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--phase", "serving", plain}, "profgen: --phase serving: the recording has no phases startup and serving (record with --ready"},
		{[]string{"--phase", "serving", "--runtime", "runc", rec}, "profgen: --phase serving with --runtime runc: "},
		{[]string{"--phase", "run", rec}, `profgen: --phase "run": want startup or serving`},
		{[]string{"--phase", "serving", oci}, "profgen: --phase applies to recordings"},
	} {
		out := filepath.Join(dir, "refused.json")
		r := runProfgen(t, dir, append([]string{"emit", "-o", out}, c.args...)...)
		if r.code != 1 || !strings.HasPrefix(r.stderr, c.want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("emit %v: exit %d, stderr %q; want exit 1 and %q", c.args, r.code, r.stderr, c.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("emit %v left %s", c.args, out)
		}
	}
}

// TestEmitGoEnterServing: emit --format go of a recording with phases
// offers EnterServing, with a serving filter that leaves out execve, and
// the full filter lets seccomp through to stack it; a recording without
// phases gets the output of before.
func TestEmitGoEnterServing(t *testing.T) {
	dir := t.TempDir()
	rec := writeRecording(t, dir, "rec.json", phasedRecording)
	plain := writeRecording(t, dir, "plain.json", nil)
	r := runProfgen(t, dir, "emit", "-q", "--format", "go", rec)
	if r.code != 0 {
		t.Fatalf("emit: exit %d: %s", r.code, r.stderr)
	}
	_, serving, ok := strings.Cut(r.stdout, "func EnterServing() error")
	if !ok || !strings.Contains(serving, "var profgenServingFilter") {
		t.Fatalf("no EnterServing:\n%s", r.stdout)
	}
	full, _, _ := strings.Cut(r.stdout, "func EnterServing")
	if !strings.Contains(full, "//	seccomp: allow when") || !strings.Contains(full, "//	execve: allow") {
		t.Errorf("the full filter's comment lacks seccomp or execve:\n%s", full)
	}
	if strings.Contains(serving, "execve: allow") || !strings.Contains(serving, "//	accept4: allow") {
		t.Errorf("the serving filter:\n%s", serving)
	}
	r = runProfgen(t, dir, "emit", "-q", "--format", "go", plain)
	if r.code != 0 || strings.Contains(r.stdout, "EnterServing") || strings.Contains(r.stdout, "seccomp: allow") {
		t.Errorf("emit of a recording without phases: exit %d, EnterServing or seccomp in:\n%s", r.code, r.stdout)
	}
	// The C and go-libseccomp outputs offer it too, with the seccomp
	// rule in the full filter and no execve in the serving one.
	for _, c := range []struct{ format, fn, serving, end string }{
		{"c", "int profgen_enter_serving(void)", " * profgen_serving_filter is the filter", "*/"},
		{"go-libseccomp", "func EnterServing() error", "var profgenServingRules = ", "\n}"},
	} {
		r := runProfgen(t, dir, "emit", "-q", "--format", c.format, rec)
		full, serving, ok := strings.Cut(r.stdout, c.serving)
		if r.code != 0 || !ok || !strings.Contains(r.stdout, c.fn) {
			t.Errorf("emit --format %s: exit %d, no %s; stderr %s", c.format, r.code, c.fn, r.stderr)
			continue
		}
		serving, _, _ = strings.Cut(serving, c.end)
		if !strings.Contains(full, `"seccomp"`) || strings.Contains(serving, "execve") || !strings.Contains(serving, "accept4") {
			t.Errorf("emit --format %s: the full part lacks seccomp or the serving part has execve or lacks accept4:\n%s", c.format, r.stdout)
		}
		if r := runProfgen(t, dir, "emit", "-q", "--format", c.format, plain); r.code != 0 || strings.Contains(r.stdout, c.fn) {
			t.Errorf("emit --format %s of a recording without phases: exit %d, %s in it", c.format, r.code, c.fn)
		}
	}
}

// TestEmitServingHousekeeping: the serving phase's profile keeps the
// runtime's housekeeping calls that start-up made (clone, mmap: a runtime
// makes threads and maps memory whenever it needs to), with a note, but
// not start-up's other calls (execve, bind), nor a housekeeping call the
// run never made (clone3 is ENOSYS, the stub, not allowed).
func TestEmitServingHousekeeping(t *testing.T) {
	dir := t.TempDir()
	rec := writeRecording(t, dir, "rec.json", func(r *recording.Recording) {
		phasedRecording(r)
		startup := recording.Evidence{Exes: []string{"/srv/server"}, Phases: map[string]uint64{recording.PhaseStartup: 2}}
		r.Syscalls = append(r.Syscalls,
			recording.Syscall{Name: "clone", Number: 56, Count: 2, Seen: 1, Evidence: startup},
			recording.Syscall{Name: "mmap", Number: 9, Count: 2, Seen: 1, Evidence: startup})
	})
	r := runProfgen(t, dir, "emit", "--phase", "serving", "--format", "oci", "-o", "serving.json", rec)
	if r.code != 0 {
		t.Fatalf("emit: exit %d: %s", r.code, r.stderr)
	}
	p, err := readers.ReadOCIFile(filepath.Join(dir, "serving.json"))
	if err != nil {
		t.Fatal(err)
	}
	allowed := p.Allowed()
	for _, s := range []string{"clone", "mmap", "accept4"} {
		if !slices.Contains(allowed, s) {
			t.Errorf("the serving profile does not allow %s: %v", s, allowed)
		}
	}
	for _, s := range []string{"execve", "bind", "listen", "clone3", "munmap"} {
		if slices.Contains(allowed, s) {
			t.Errorf("the serving profile allows %s: %v", s, allowed)
		}
	}
	r = runProfgen(t, dir, "emit", "--phase", "serving", "--format", "text", rec)
	if r.code != 0 || !strings.Contains(r.stdout, "the serving phase keeps what start-up recorded of clone, mmap") {
		t.Errorf("emit --format text: exit %d, no note of the carried calls:\n%s", r.code, r.stdout)
	}
}

// TestExplainEmitServingDrops: explain of a recording with phases and emit
// --format text of it say what the serving phase's filter drops (the
// start-up-only calls, not the housekeeping ones emit carries over) and show
// each recorded syscall's evidence; explain --json has the same fields.
func TestExplainEmitServingDrops(t *testing.T) {
	dir := t.TempDir()
	rec := writeRecording(t, dir, "rec.json", func(r *recording.Recording) {
		phasedRecording(r)
		startup := recording.Evidence{Exes: []string{"/srv/server"}, Phases: map[string]uint64{recording.PhaseStartup: 2}}
		r.Syscalls = append(r.Syscalls, recording.Syscall{Name: "clone", Number: 56, Count: 2, Seen: 1, Evidence: startup})
	})
	const drops = "the serving phase's filter drops 4 of the "
	const dropped = ": bind, execve, listen, socket; dangerous among them: none"
	r := runProfgen(t, dir, "explain", rec)
	if r.code != 0 || !strings.Contains(r.stdout, "serving: "+drops) || !strings.Contains(r.stdout, dropped) ||
		!strings.Contains(r.stdout, "startup 2, serving 8") {
		t.Errorf("explain: exit %d, stderr %s, stdout:\n%s", r.code, r.stderr, r.stdout)
	}
	r = runProfgen(t, dir, "explain", "--json", rec)
	var js struct {
		Kind    string `json:"kind"`
		Serving struct {
			Dropped []string `json:"dropped"`
		} `json:"serving"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &js); err != nil || js.Kind != "recording" || !slices.Equal(js.Serving.Dropped, []string{"bind", "execve", "listen", "socket"}) {
		t.Errorf("explain --json: %v, %+v:\n%s", err, js, r.stdout)
	}
	r = runProfgen(t, dir, "emit", "-q", "--format", "text", rec)
	if r.code != 0 || !strings.Contains(r.stdout, "# "+drops) || !strings.Contains(r.stdout, dropped) ||
		!strings.Contains(r.stdout, "FIRST  PHASES") || !strings.Contains(r.stdout, "/srv/server") {
		t.Errorf("emit --format text: exit %d, stderr %s, stdout:\n%s", r.code, r.stderr, r.stdout)
	}
}

// TestEmitServingUnlearnable: recordings whose serving phase cannot be
// learned (merged with one whose argument shapes have no phases) give the
// output without the serving filter, and emit says why on standard error.
func TestEmitServingUnlearnable(t *testing.T) {
	dir := t.TempDir()
	base := baseRecording().Lookup("socket")
	phased := writeRecording(t, dir, "a.json", func(r *recording.Recording) {
		phasedRecording(r)
		s := &r.Syscalls[slices.IndexFunc(r.Syscalls, func(s recording.Syscall) bool { return s.Name == "socket" })]
		s.Args = base.Args
		s.Shapes = []recording.Shape{{Values: []recording.Hex{2, 1, 0}, Count: 1, Seen: 1, Evidence: s.Evidence}}
	})
	// The base recording's socket shapes have no phases.
	old := writeRecording(t, dir, "b.json", nil)
	for _, format := range []string{"c", "text"} {
		r := runProfgen(t, dir, "emit", "--format", format, phased, old)
		if r.code != 0 || strings.Contains(r.stdout, "profgen_enter_serving") || strings.Contains(r.stdout, "serving phase's filter drops") ||
			!strings.Contains(r.stderr, "profgen: note: the serving phase: socket: an argument shape has no phases") {
			t.Errorf("emit --format %s: exit %d, stderr %s\n%s", format, r.code, r.stderr, r.stdout)
		}
	}
	// explain of the merge says so too, and explains the rest.
	merged := filepath.Join(dir, "merged.json")
	if r := runProfgen(t, dir, "merge", "-q", "-o", merged, phased, old); r.code != 0 {
		t.Fatalf("merge: exit %d: %s", r.code, r.stderr)
	}
	r := runProfgen(t, dir, "explain", merged)
	if r.code != 0 || !strings.Contains(r.stdout, "serving: the serving phase cannot be learned: socket: an argument shape has no phases") {
		t.Errorf("explain: exit %d, stderr %s, stdout:\n%s", r.code, r.stderr, r.stdout)
	}
}
