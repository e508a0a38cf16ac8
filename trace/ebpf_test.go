package trace

import (
	"errors"
	"os"
	"os/exec"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/argspec"
	"github.com/profgen/profgen/internal/cgroup"
	"github.com/profgen/profgen/recording"
)

// TestEBPFLifecycle drives the backend by hand: a cgroup target, counts
// read by Collect, and Close that may be called again.
func TestEBPFLifecycle(t *testing.T) {
	bin := buildC(t, "known", knownSrc)
	e := newTestEBPF(t, EBPFOptions{})
	ids := programIDs(t, e)
	if e.Name() != recording.BackendEBPF {
		t.Errorf("name %q", e.Name())
	}
	cg, err := cgroup.New()
	if err != nil {
		t.Fatal(err)
	}
	defer cg.Close()
	masks, _, err := compileArgTable(e.arch, argspec.Table)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.CaptureArgs(masks); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "42")
	cmd.SysProcAttr = &unix.SysProcAttr{UseCgroupFD: true, CgroupFD: cg.FD()}
	if err := e.Prepare(&Target{Cmd: cmd, Cgroup: cg}); err != nil {
		t.Fatal(err)
	}
	if err := e.Prepare(&Target{Cmd: cmd, Cgroup: cg}); err == nil {
		t.Error("second Prepare succeeded")
	}
	// Prepare loaded the programs again with their final constants and
	// unloaded the first ones.
	assertUnloaded(t, ids)
	ids = programIDs(t, e)
	if e.level != 1 || e.cgid != cg.ID {
		t.Errorf("the program selects cgroup level %d id %d, want 1 and %d", e.level, e.cgid, cg.ID)
	}
	if err := e.CaptureArgs(masks); err == nil {
		t.Error("argument masks given after Prepare were accepted")
	}
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if err := e.Start(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	if ev := e.Events(); ev < 42 {
		t.Errorf("Events() = %d, want at least the 42 getppid calls", ev)
	}
	if d := e.Distinct(); d < 5 {
		t.Errorf("Distinct() = %d", d)
	}
	obs, err := e.Collect()
	if err != nil {
		t.Fatal(err)
	}
	getppid := Key{Nr: uint32(unix.SYS_GETPPID)}
	if obs.Counts[getppid] != 42 || obs.Scope != recording.ScopeCgroup || !obs.ArgShapes || obs.Lost != 0 {
		t.Errorf("getppid %d scope %q argShapes %v lost %d", obs.Counts[getppid], obs.Scope, obs.ArgShapes, obs.Lost)
	}
	sock := Key{Nr: uint32(unix.SYS_SOCKET), Args: [6]uint64{unix.AF_INET, unix.SOCK_DGRAM, 0}}
	if obs.Counts[sock] != 1 {
		t.Errorf("socket(AF_INET, SOCK_DGRAM|SOCK_CLOEXEC, 0) counted %d times under %v; counts %v", obs.Counts[sock], sock, obs.Counts)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := e.Collect(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Collect after Close: %v, want os.ErrClosed", err)
	}
	assertUnloaded(t, ids)
}

// TestEBPFCloseUnprepared closes a backend that never attached.
func TestEBPFCloseUnprepared(t *testing.T) {
	e := newTestEBPF(t, EBPFOptions{})
	ids := programIDs(t, e)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	assertUnloaded(t, ids)
	if err := e.Prepare(&Target{Cmd: exec.Command("true")}); err == nil {
		t.Error("Prepare after Close succeeded")
	}
}
