package main

import (
	"encoding/json"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/exitcode"
	"github.com/profgen/profgen/internal/workload"
	"github.com/profgen/profgen/replay"
)

// TestArgShapesRunc is issue 3's proof that pinned arguments hold under a
// real runtime. The profile learned from argshapes' normal mode (emitted
// for runc, the default) runs the normal mode in runc with no denial; each
// variant, which repeats the normal work and then makes one call with an
// argument value the normal mode never used, is denied in runc: the live
// report names the syscall and the workload sees EPERM (exit 42), and the
// static replay of the variant's own recording names the value.
func TestArgShapesRunc(t *testing.T) {
	bin := workload.Build(t, "argshapes")
	dir := t.TempDir()

	run := func(args ...string) result {
		t.Helper()
		return runProfgen(t, dir, args...)
	}
	if r := run("record", "-o", "normal.json", "--", bin); r.code != 0 {
		t.Fatalf("record: exit %d: %s", r.code, r.stderr)
	}
	if r := run("emit", "-o", "profile.json", "normal.json"); r.code != 0 {
		t.Fatalf("emit: exit %d: %s", r.code, r.stderr)
	}
	liveReport := func(t *testing.T, args ...string) (result, replay.Report) {
		t.Helper()
		r := run(append([]string{"replay", "--json", "--profile", "profile.json", "--", bin}, args...)...)
		var rep replay.Report
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("replay %v: exit %d, bad JSON %q: %v\nstderr: %s", args, r.code, r.stdout, err, r.stderr)
		}
		return r, rep
	}

	r, rep := liveReport(t)
	if r.code != 0 || !rep.OK() || rep.ExitCode != 0 {
		t.Fatalf("normal mode under its own profile in runc: exit %d, workload %d, violations %+v\nstderr: %s", r.code, rep.ExitCode, rep.Violations, r.stderr)
	}

	for _, c := range []struct {
		variant, syscall string
		arg              int
		value            uint64
		name             string // the value as the text report names it
	}{
		{"netlink", "socket", 0, unix.AF_NETLINK, "AF_NETLINK"},
		{"packet", "socket", 0, unix.AF_PACKET, "AF_PACKET"},
		{"ioctl", "ioctl", 1, unix.TIOCSTI, "TIOCSTI"},
		{"dumpable", "prctl", 0, unix.PR_SET_DUMPABLE, "PR_SET_DUMPABLE"},
		{"wx", "mmap", 2, unix.PROT_WRITE | unix.PROT_EXEC, "PROT_WRITE|PROT_EXEC"},
	} {
		t.Run(c.variant, func(t *testing.T) {
			r, rep := liveReport(t, "--variant", c.variant)
			if r.code != exitcode.Found {
				t.Fatalf("replay exit %d, want %d (denied)\nstdout: %s\nstderr: %s", r.code, exitcode.Found, r.stdout, r.stderr)
			}
			var names []string
			for _, v := range rep.Violations {
				names = append(names, v.Syscall)
			}
			if len(names) != 1 || names[0] != c.syscall {
				t.Errorf("denied %v, want exactly [%s]", names, c.syscall)
			}
			// Enforced, the workload saw EPERM for its variant call.
			if rep.ExitCode != 42 {
				t.Errorf("workload exit %d, want 42 (EPERM for the variant call)\nstderr: %s", rep.ExitCode, r.stderr)
			}

			// The value: record the variant and replay it statically.
			rec := c.variant + ".json"
			if r := run("record", "-o", rec, "--", bin, "--variant", c.variant); r.code != 0 {
				t.Fatalf("record variant: exit %d: %s", r.code, r.stderr)
			}
			r = run("replay", "--static", "--json", "--profile", "profile.json", rec)
			if r.code != exitcode.Found {
				t.Fatalf("static replay exit %d, want %d\n%s%s", r.code, exitcode.Found, r.stdout, r.stderr)
			}
			var srep replay.Report
			if err := json.Unmarshal([]byte(r.stdout), &srep); err != nil {
				t.Fatal(err)
			}
			if len(srep.Violations) != 1 {
				t.Fatalf("static violations %+v, want one", srep.Violations)
			}
			v := srep.Violations[0]
			if v.Syscall != c.syscall || !v.HasArgs || v.Args[c.arg] != c.value {
				t.Errorf("static violation %s args %#x (known %v), want %s with arg%d = %#x",
					v.Syscall, v.Args, v.HasArgs, c.syscall, c.arg, c.value)
			}
			// The text report names the value (the JSON above keeps it
			// as a number).
			if text := run("replay", "--static", "--profile", "profile.json", rec).stdout; !strings.Contains(text, c.name) {
				t.Errorf("static text report does not name %#x as %s:\n%s", c.value, c.name, text)
			}
		})
	}
}
