package replay

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"

	"github.com/profgen/profgen/emit"
	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/internal/runc"
	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/trace/recording"
)

func nativeArch(t *testing.T) abi.Arch {
	t.Helper()
	a, err := abi.Native()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// runcCalls runs /bin/true in runc under a profile that logs every call
// except the baseline every profile allows and what --runtime rt adds (and
// answers the ENOSYS stubs with ENOSYS) and returns the calls runc itself made under the
// filter, up to and including the execve of the workload: those the audit
// records attribute to another executable than /usr/bin/true. Keys are
// "NAME ACTION".
func runcCalls(t *testing.T, nnp bool, rt learn.Runtime) map[string]int {
	t.Helper()
	arch := nativeArch(t)
	p, err := learn.FromRecording(&recording.Recording{Arch: string(arch)}, learn.Options{Runtime: rt, DefaultAction: &learn.Log})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := emit.OCI(p, emit.OCIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	col, err := newCollector()
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
	c, err := runc.Start(b, runc.NewID("profgen-test"), runc.Options{NewAuditSession: true, Stdio: runc.Stdio{Stderr: os.Stderr}})
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
	for _, r := range col.session(c.Session) {
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
// docs quote); then it checks that under a profile of the baseline plus
// what --runtime runc adds, runc makes no call the profile lacks.
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
		seen := map[string]int{}
		for i := 0; i < runs; i++ {
			for k := range runcCalls(t, nnp, learn.RuntimeNone) {
				seen[k]++
			}
		}
		var keys []string
		for k := range seen {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			t.Logf("noNewPrivileges=%v, baseline only: %2d/%d runs: %s", nnp, seen[k], runs, k)
		}
		for i := 0; i < runs; i++ {
			for k, n := range runcCalls(t, nnp, learn.RuntimeRunc) {
				t.Errorf("noNewPrivileges=%v, run %d: runc made a call --runtime runc does not allow: %s (%d times)", nnp, i+1, k, n)
			}
		}
	}
}
