package trace

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"

	"github.com/profgen/profgen/internal/cgroup"
	"github.com/profgen/profgen/internal/testenv"
)

// newTestEBPF loads the eBPF backend, skipping the test only when the
// kernel truly cannot load it.
func newTestEBPF(t *testing.T, opts EBPFOptions) *EBPF {
	t.Helper()
	e, err := NewEBPF(opts)
	if errors.Is(err, ErrNotSupported) {
		testenv.EBPFUnsupported(t, err)
	}
	if err != nil {
		t.Fatalf("NewEBPF: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// programIDs returns the kernel ids of the backend's programs.
func programIDs(t *testing.T, e *EBPF) []ebpf.ProgramID {
	t.Helper()
	var ids []ebpf.ProgramID
	for _, p := range []*ebpf.Program{e.objs.ProfgenEnter, e.objs.ProfgenFork, e.objs.ProfgenExit} {
		info, err := p.Info()
		if err != nil {
			t.Fatalf("program info: %v", err)
		}
		id, ok := info.ID()
		if !ok {
			t.Fatal("program info has no id")
		}
		ids = append(ids, id)
	}
	return ids
}

// assertUnloaded fails unless none of ids is still loaded in the kernel.
// The kernel frees a program once the RCU grace period after its link's
// release ended, so a program may linger for a moment after Close.
func assertUnloaded(t *testing.T, ids []ebpf.ProgramID) {
	t.Helper()
	for _, id := range ids {
		var err error
		for i := 0; i < 500; i++ {
			var p *ebpf.Program
			if p, err = ebpf.NewProgramFromID(id); err != nil {
				break
			}
			p.Close()
			time.Sleep(10 * time.Millisecond)
		}
		if err == nil {
			t.Errorf("BPF program %d is still loaded 5s after Close", id)
		} else if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("look up BPF program %d: %v", id, err)
		}
	}
}

// assertNoCgroups fails if a cgroup of this process is left under the
// cgroup2 mount.
func assertNoCgroups(t *testing.T, pid int) {
	t.Helper()
	mnt, err := cgroup.V2Mount()
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(mnt)
	if err != nil {
		t.Fatal(err)
	}
	prefix := cgroup.Prefix + strconv.Itoa(pid) + "-"
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			t.Errorf("cgroup %s left behind", filepath.Join(mnt, e.Name()))
		}
	}
}

// buildC compiles a static C program from src into the test's temporary
// directory.
func buildC(t *testing.T, name, src string) string {
	t.Helper()
	dir := t.TempDir()
	c := filepath.Join(dir, name+".c")
	bin := filepath.Join(dir, name)
	if err := os.WriteFile(c, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("cc", "-static", "-O1", "-o", bin, c).CombinedOutput()
	if err != nil {
		t.Fatalf("cc %s: %v\n%s", name, err, out)
	}
	return bin
}
