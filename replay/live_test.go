package replay

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/profgen/profgen/emit"
	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/internal/engine"
	"github.com/profgen/profgen/internal/runc"
	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/recording"
	"github.com/profgen/profgen/trace"
)

func TestMain(m *testing.M) {
	// Live replay with RuntimeNone re-executes the test binary as the log
	// backend's launcher.
	trace.MaybeLauncher()
	os.Exit(m.Run())
}

func nativeArch(t *testing.T) abi.Arch {
	t.Helper()
	a, err := abi.Native()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// runcCalls runs /bin/true in runc under a profile that logs every call
// (rt "") or every call but the baseline every profile allows and what
// --runtime rt adds (answering the ENOSYS stubs with ENOSYS), and returns the calls runc itself made under the
// filter, up to and including the execve of the workload: those the audit
// records attribute to another executable than /usr/bin/true. Keys are
// "NAME ACTION".
func runcCalls(t *testing.T, nnp bool, rt learn.Loader) map[string]int {
	t.Helper()
	return runcCallsUnder(t, nnp, learn.Options{Runtime: rt})
}

// runcCallsUnder is runcCalls under the profile learn.Options opts make
// (with default action log) from an empty recording; opts.Runtime "" means
// a profile of nothing at all.
func runcCallsUnder(t *testing.T, nnp bool, opts learn.Options) map[string]int {
	t.Helper()
	arch := nativeArch(t)
	p := &learn.Profile{Arch: arch, DefaultAction: learn.Log}
	if opts.Runtime != "" {
		var err error
		opts.DefaultAction = &learn.Log
		p, err = learn.FromRecording(&recording.Recording{Arch: string(arch)}, opts)
		if err != nil {
			t.Fatal(err)
		}
	}
	doc, err := emit.OCI(p, emit.OCIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	col, err := newCollector(false)
	if err != nil {
		t.Fatal(err)
	}
	defer col.close()
	b, err := runc.NewBundle(filepath.Join(t.TempDir(), "bundle"), runc.BundleOptions{
		Args: []string{"/bin/true"}, NoNewPrivileges: nnp, Seccomp: doc,
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := runc.Start(b, runc.NewID("profgen-test"), runc.Options{NewAuditSession: true, OnAuditSession: col.watch, Stdio: runc.Stdio{Stderr: os.Stderr}})
	if err != nil {
		t.Fatal(err)
	}
	if code, err := c.Wait(context.Background()); err != nil || code != 0 {
		t.Fatalf("runc: exit %d, %v", code, err)
	}
	if err := col.flush(); err != nil {
		t.Fatal(err)
	}
	calls := map[string]int{}
	workload := 0
	recs, _ := col.session(c.Session)
	for _, r := range recs {
		if r.Exe == "/usr/bin/true" {
			workload++ // the workload's own calls
			continue
		}
		name, err := abi.SyscallName(arch, int(r.Syscall))
		if err != nil {
			t.Fatal(err)
		}
		calls[name+" "+auditAction(r.Code).String()]++
	}
	if workload == 0 {
		// /bin/true's own calls (brk, mmap, ...) are logged too.
		t.Fatalf("no record of /usr/bin/true in audit session %d: the records are not those of the container", c.Session)
	}
	return calls
}

// TestRuncRuntimeSyscalls is the experiment behind learn's runc list (see
// docs/runtimes.md), with noNewPrivileges true and false. First it logs
// what runc calls under a profile of only the baseline (the evidence the
// docs quote) under a profile that allows nothing and under one of only
// the baseline and ENOSYS stubs; then it checks that under a profile of
// the baseline plus what --runtime runc adds, runc makes no call the
// profile lacks.
// PROFGEN_RUNTIME_RUNS sets the runs per setting (default 5; the docs
// report 30).
func TestRuncRuntimeSyscalls(t *testing.T) {
	runs := 5
	if v := os.Getenv("PROFGEN_RUNTIME_RUNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("PROFGEN_RUNTIME_RUNS=%q", v)
		}
		runs = n
	}
	for _, nnp := range []bool{true, false} {
		for _, rt := range []learn.Loader{"", learn.LoaderNone} {
			seen := map[string]int{}
			for i := 0; i < runs; i++ {
				for k := range runcCalls(t, nnp, rt) {
					seen[k]++
				}
			}
			var keys []string
			for k := range seen {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			what := "nothing allowed"
			if rt != "" {
				what = "baseline and stubs"
			}
			for _, k := range keys {
				t.Logf("noNewPrivileges=%v, %s: %2d/%d runs: %s", nnp, what, seen[k], runs, k)
			}
		}
		for i := 0; i < runs; i++ {
			for k, n := range runcCalls(t, nnp, learn.LoaderRunc) {
				t.Errorf("noNewPrivileges=%v, run %d: runc made a call --runtime runc does not allow: %s (%d times)", nnp, i+1, k, n)
			}
		}
	}
}

// TestRuncNoNewPrivilegesSyscalls: with noNewPrivileges true, runc makes
// no call outside what emit --runtime runc --no-new-privileges adds (the
// list of runc's calls just before execve), and that list leaves out the
// calls runc makes only without no_new_privs.
func TestRuncNoNewPrivilegesSyscalls(t *testing.T) {
	runs := 5
	if v := os.Getenv("PROFGEN_RUNTIME_RUNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("PROFGEN_RUNTIME_RUNS=%q", v)
		}
		runs = n
	}
	nnp := learn.LoaderSyscallsNNP(learn.LoaderRunc, true)
	for _, name := range []string{"capset", "setuid", "chdir", "prctl"} {
		if slices.Contains(nnp, name) {
			t.Errorf("the no_new_privs list has %s, which runc calls only without no_new_privs", name)
		}
	}
	for i := 0; i < runs; i++ {
		for k, n := range runcCallsUnder(t, true, learn.Options{Runtime: learn.LoaderRunc, NoNewPrivileges: true}) {
			t.Errorf("run %d: runc made a call --no-new-privileges does not allow: %s (%d times)", i+1, k, n)
		}
	}
	// Without no_new_privs the short list is not enough: runc's
	// privileged set-up (capset, setuid, ...) is logged.
	extra := runcCallsUnder(t, false, learn.Options{Runtime: learn.LoaderRunc, NoNewPrivileges: true})
	t.Logf("noNewPrivileges false, outside the no_new_privs list: %v", extra)
	if len(extra) == 0 {
		t.Error("with noNewPrivileges false runc made no call outside the no_new_privs list: the check cannot tell the lists apart")
	}
}

// allowlist returns a profile of p's architecture that allows names, plus
// the baseline, the ENOSYS stubs and, for runc, what runc calls itself.
func allowlist(t *testing.T, rt learn.Loader, names ...string) *learn.Profile {
	t.Helper()
	p, err := learn.FromRecording(&recording.Recording{Arch: string(nativeArch(t))}, learn.Options{Runtime: rt})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if err := p.Add(learn.Syscall{Name: n, Action: learn.Allow, Origin: learn.OriginRecorded}); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func violations(r *Report) []string {
	var names []string
	for _, v := range r.Violations {
		names = append(names, v.Syscall)
	}
	return names
}

// TestLive learns /bin/true's calls from a live replay under a profile
// that allows only the fixed entries (which must fail, naming them), then
// replays under a profile allowing them (which must pass, /bin/true
// exiting 0) and under the same profile without mmap (which must fail and
// name mmap, and, enforced, make /bin/true fail), directly and in runc.
// Log-only, /bin/true runs to the end whatever is missing: the report must
// still name the calls. The first step is log-only, to learn every call:
// enforced, directly under the launcher, the first denial (execve itself,
// here) ends the run.
func TestLive(t *testing.T) {
	for _, rt := range []Engine{RuntimeNone, RuntimeRunc} {
		t.Run(string(rt), func(t *testing.T) {
			e, _ := engine.Lookup(rt)
			lrt := learn.Loader(e.Loader)
			live := func(p *learn.Profile, logOnly bool) *Report {
				t.Helper()
				var out strings.Builder
				rep, err := Live(context.Background(), LiveOptions{Profile: p, Command: []string{"/bin/true"}, Runtime: rt, LogOnly: logOnly, Stdout: &out, Stderr: &out})
				if err != nil {
					t.Fatalf("Live: %v (output %q)", err, out.String())
				}
				return rep
			}
			rep := live(allowlist(t, lrt), true)
			if rep.OK() {
				t.Fatal("/bin/true passed under a profile that allows none of its calls")
			}
			calls := violations(rep)
			t.Logf("/bin/true with %s, nothing allowed: exit %d, denied %v; notes %q", rt, rep.ExitCode, calls, rep.Notes)
			if !slices.Contains(calls, "mmap") {
				t.Fatalf("denied calls %v lack mmap", calls)
			}
			for _, v := range rep.Violations {
				if v.Action != "errno(EPERM)" || v.Count == 0 {
					t.Errorf("violation %+v: want action errno(EPERM) and a count", v)
				}
			}

			if rep := live(allowlist(t, lrt, calls...), false); !rep.OK() || rep.ExitCode != 0 {
				t.Errorf("under a profile allowing what /bin/true was seen to call: exit %d, denied %v", rep.ExitCode, violations(rep))
			}

			without := slices.DeleteFunc(slices.Clone(calls), func(s string) bool { return s == "mmap" })
			rep = live(allowlist(t, lrt, without...), false)
			if got := violations(rep); !slices.Equal(got, []string{"mmap"}) || rep.ExitCode == 0 {
				t.Errorf("without mmap: exit %d, denied %v; want a failed /bin/true and [mmap]", rep.ExitCode, got)
			}
			rep = live(allowlist(t, lrt, without...), true)
			if got := violations(rep); !slices.Equal(got, []string{"mmap"}) || rep.ExitCode != 0 {
				t.Errorf("without mmap, log-only: exit %d, denied %v; want exit 0 and [mmap]", rep.ExitCode, got)
			}
		})
	}
}

func TestLiveBadInput(t *testing.T) {
	p := allowlist(t, learn.LoaderNone)
	for name, opts := range map[string]LiveOptions{
		"no profile":      {Command: []string{"/bin/true"}},
		"no command":      {Profile: p},
		"missing binary":  {Profile: p, Command: []string{"/nonexistent/profgen-test"}},
		"unknown runtime": {Profile: p, Command: []string{"/bin/true"}, Runtime: "kata"},
		"ready, no drive": {Profile: p, Command: []string{"/bin/true"}, Ready: "delay:1s"},
		"allow default":   {Profile: &learn.Profile{Arch: p.Arch, DefaultAction: learn.Allow}, Command: []string{"/bin/true"}},
	} {
		if _, err := Live(context.Background(), opts); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
