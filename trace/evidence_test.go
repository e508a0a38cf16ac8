package trace

import (
	"net"
	"path/filepath"
	"slices"
	"testing"

	"github.com/profgen/profgen/recording"
)

// resolved is path with its symbolic links resolved: the executable's path
// as a process that ran it sees it (/bin/sh is /usr/bin/dash here).
func resolved(t *testing.T, path string) string {
	t.Helper()
	p, err := filepath.EvalSymlinks(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// checkPhases fails when a call's or shape's phases do not add up to its
// count, or name a phase other than want.
func checkPhases(t *testing.T, r *recording.Recording, want ...string) {
	t.Helper()
	check := func(what string, count uint64, e recording.Evidence) {
		var sum uint64
		for ph, n := range e.Phases {
			if !slices.Contains(want, ph) {
				t.Errorf("%s: phase %q, want only %v", what, ph, want)
			}
			sum += n
		}
		if sum != count {
			t.Errorf("%s: phases %v add up to %d, not its count %d", what, e.Phases, sum, count)
		}
		if e.FirstSeenMs == nil {
			t.Errorf("%s: no firstSeenMs", what)
		}
	}
	for _, s := range r.Syscalls {
		check(s.Name, s.Count, s.Evidence)
		for _, sh := range s.Shapes {
			check(s.Name+" shape", sh.Count, sh.Evidence)
		}
	}
}

// TestRecordEvidenceExes records a shell that runs three programs: each
// call names the executables that made it, as the processes saw them (by
// the names they were executed by, symbolic links kept: /bin/sh, not
// /usr/bin/dash), and the execve that started the shell comes first.
func TestRecordEvidenceExes(t *testing.T) {
	if sh := resolved(t, "/bin/sh"); sh == "/bin/sh" {
		t.Fatalf("/bin/sh is no symbolic link here: the test cannot tell a name from its target")
	}
	evidenceExes(t, newTestEBPF(t, EBPFOptions{}), func(_ *testing.T, p string) string { return p })
}

// evidenceExes is TestRecordEvidenceExes with backend b, which names an
// executable executed as path name(t, path); it returns the recording.
func evidenceExes(t *testing.T, b Backend, name func(*testing.T, string) string) *recording.Recording {
	sh, tru, sleep, env := name(t, "/bin/sh"), name(t, "/bin/true"), name(t, "/bin/sleep"), name(t, "/usr/bin/env")
	res := record(t, Options{Backend: b, Command: []string{"/bin/sh", "-c", "/bin/true; /bin/sleep 0.3; /usr/bin/env true; echo done"}})
	r := res.Recording
	exes := func(name string) []string {
		s := r.Lookup(name)
		if s == nil {
			t.Fatalf("no %s in %v", name, r.Names())
		}
		return s.Exes
	}
	for _, c := range []struct {
		name string
		want []string
	}{
		// The shell waits; sleep sleeps; the shell and env exec (the
		// execve that started the shell was the launcher's).
		{"wait4", []string{sh}},
		{"clock_nanosleep", []string{sleep}},
		{"execve", []string{sh, env}},
		{"write", []string{sh}},
	} {
		got := exes(c.name)
		slices.Sort(c.want)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s made by %v, want %v", c.name, got, c.want)
		}
	}
	all := []string{sh, tru, sleep, env}
	slices.Sort(all)
	if got := exes("exit_group"); !slices.Equal(got, []string{sh, sleep, tru}) && !slices.Equal(got, all) {
		// env execs true: its own process exits as true.
		t.Errorf("exit_group made by %v, want %v", got, []string{sh, sleep, tru})
	}
	if got := exes("mmap"); !slices.Equal(got, all) {
		t.Errorf("mmap made by %v, want all of %v", got, all)
	}
	for _, s := range r.Syscalls {
		if s.OtherExes != 0 {
			t.Errorf("%s: %d executables without a name", s.Name, s.OtherExes)
		}
	}
	checkPhases(t, r, recording.PhaseRun)
	if r.ReadyAtMs != nil {
		t.Errorf("readyAtMs %d without readiness", *r.ReadyAtMs)
	}
	execve := *r.Lookup("execve").FirstSeenMs
	for _, s := range r.Syscalls {
		if *s.FirstSeenMs < execve {
			t.Errorf("%s first seen at %d ms, before the execve (%d ms)", s.Name, *s.FirstSeenMs, execve)
		}
	}
	// clock_nanosleep came before the 300 ms sleep, env's own calls after.
	if at := *r.Lookup("clock_nanosleep").FirstSeenMs; at > 250 {
		t.Errorf("clock_nanosleep first seen at %d ms, want before the sleep ended", at)
	}
	if end := r.End.Sub(r.Start).Milliseconds(); end < 300 {
		t.Errorf("the run took %d ms, less than its sleep", end)
	}
	return r
}

// TestRecordEvidencePhases records a server with a TCP readiness check:
// bind and listen are counted in startup only, accept in serving only, and
// readyAtMs says when it became ready.
func TestRecordEvidencePhases(t *testing.T) {
	evidencePhases(t, newTestEBPF(t, EBPFOptions{}))
}

// evidencePhases is TestRecordEvidencePhases with backend b; it returns
// the recording.
func evidencePhases(t *testing.T, b Backend) *recording.Recording {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, port, _ := net.SplitHostPort(addr)
	bin := buildC(t, "listen", listenSrc)
	res := record(t, Options{
		Backend: b,
		Command: []string{bin, port, "serve"},
		Drive:   bin + " " + port + " connect; " + bin + " " + port + " connect",
		Ready:   "tcp:" + addr,
	})
	r := res.Recording
	if r.ReadyAtMs == nil || *r.ReadyAtMs < 200 {
		t.Fatalf("readyAtMs %v, want at least the server's 200 ms pause", r.ReadyAtMs)
	}
	checkPhases(t, r, recording.PhaseStartup, recording.PhaseServing)
	for _, c := range []struct {
		name   string
		phases map[string]uint64
	}{
		{"bind", map[string]uint64{recording.PhaseStartup: 1}},
		{"listen", map[string]uint64{recording.PhaseStartup: 1}},
		{"clock_nanosleep", map[string]uint64{recording.PhaseStartup: 1}},
	} {
		s := r.Lookup(c.name)
		if s == nil || !mapsEqual(s.Phases, c.phases) {
			t.Errorf("%s: phases %v, want %v", c.name, s, c.phases)
		}
	}
	// A call is counted when it is entered: the server's first accept
	// blocked in startup (it took the readiness check's connection), and
	// the one that took the driver's second connection was entered
	// after the first's, once ready.
	if s := r.Lookup("accept"); s == nil || s.Phases[recording.PhaseServing] < 1 {
		t.Errorf("accept: want calls in serving: %+v", s)
	}
	for _, s := range r.Syscalls {
		if s.Name == "execve" {
			continue // the launcher's
		}
		if !slices.Equal(s.Exes, []string{bin}) {
			t.Errorf("%s made by %v, want %s", s.Name, s.Exes, bin)
		}
	}
	return r
}

func mapsEqual(a, b map[string]uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
