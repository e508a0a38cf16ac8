package cgroup

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/proc"
)

func TestParseCgroupName(t *testing.T) {
	for _, tc := range []struct {
		name string
		want proc.ID
		ok   bool
	}{
		{"profgen-123-456-789-1", proc.ID{Pid: 123, Start: 456, PidNS: 789}, true},
		{"profgen-123-1764600000000000000", proc.ID{Pid: 123}, true}, // old name
		{"profgen-123", proc.ID{}, false},
		{"profgen-123-4-5", proc.ID{}, false},
		{"profgen-x-1-2-3", proc.ID{}, false},
		{"profgen-0-1-2-3", proc.ID{}, false},
		{"profgentest-1-2-3-4", proc.ID{}, false},
		{"other-1-2-3-4", proc.ID{}, false},
	} {
		got, ok := parseCgroupName(tc.name)
		if ok != tc.ok || got != tc.want {
			t.Errorf("parseCgroupName(%q) = %+v, %v; want %+v, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

func TestNewCgroupOwner(t *testing.T) {
	cg, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer cg.Close()
	o, ok := parseCgroupName(filepath.Base(cg.Path))
	self, err := proc.Self()
	if err != nil {
		t.Fatal(err)
	}
	if !ok || o != self {
		t.Errorf("cgroup %s names owner %+v (%v), want this process %+v", cg.Path, o, ok, self)
	}
	ns, _ := proc.PidNamespace("self")
	if gone(o, ns) {
		t.Error("this process counts as gone")
	}
}

// TestRemoveStaleCgroups plants cgroups named after owners that are gone
// and owners that run, each with a process in it, in a parent cgroup of the
// test's own (which no other profgen on the machine scans).
func TestRemoveStaleCgroups(t *testing.T) {
	mnt, err := V2Mount()
	if err != nil {
		t.Fatal(err)
	}
	parent := filepath.Join(mnt, fmt.Sprintf("profgentest-stale-%d", os.Getpid()))
	if err := os.Mkdir(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { KillAndRemove(parent) })
	ns, err := proc.PidNamespace("self")
	if err != nil {
		t.Fatal(err)
	}

	// A live owner that is not this process.
	owner := exec.Command("sleep", "100")
	if err := owner.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { owner.Process.Kill(); owner.Wait() })
	ownerInfo, err := proc.ReadStat(owner.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	// Pids are below pid_max, which is at most 1<<22 (PID_MAX_LIMIT): no
	// process has this one, and none will while the test runs.
	live, dead := owner.Process.Pid, 1<<22

	type planted struct {
		name  string
		sub   bool // the process is in a sub-cgroup
		stale bool
	}
	cases := []planted{
		{fmt.Sprintf("profgen-%d-12345-%d-1", dead, ns), false, true},                       // owner gone
		{fmt.Sprintf("profgen-%d-%d-%d-2", live, ownerInfo.Start+1, ns), true, true},        // pid reused by another process
		{fmt.Sprintf("profgen-%d-%d-%d-3", live, ownerInfo.Start, ns), false, false},        // owner runs
		{fmt.Sprintf("profgen-%d-12345-%d-4", dead, ns+1), false, false},                    // another pid namespace
		{fmt.Sprintf("profgen-%d-1764600000000000000", dead), false, true},                  // old name, pid free
		{fmt.Sprintf("profgen-%d-1764600000000000000", live), false, false},                 // old name, pid taken
		{fmt.Sprintf("profgen-%d-%d-%d-5", dead, ownerInfo.Start, ns) + "-x", false, false}, // not profgen's
	}
	procs := map[string]*exec.Cmd{}
	for _, c := range cases {
		dir := filepath.Join(parent, c.name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if c.sub {
			dir = filepath.Join(dir, "sub")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		p := exec.Command("sleep", "100")
		p.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
		err = p.Start()
		unix.Close(fd)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Process.Kill(); p.Wait() })
		procs[c.name] = p
	}

	reports := removeStaleCgroups(parent)
	for _, c := range cases {
		dir := filepath.Join(parent, c.name)
		_, statErr := os.Stat(dir)
		p := procs[c.name]
		var report string
		for _, r := range reports {
			if strings.Contains(r, dir+" ") {
				report = r
			}
		}
		if !c.stale {
			if statErr != nil || report != "" {
				t.Errorf("%s: not stale, but removed (%v) or reported (%q)", c.name, statErr, report)
			}
			if err := p.Process.Signal(syscall.Signal(0)); err != nil {
				t.Errorf("%s: not stale, but its process was killed: %v", c.name, err)
			}
			continue
		}
		if statErr == nil {
			t.Errorf("%s: stale, but not removed", c.name)
		}
		want := "sleep " + strconv.Itoa(p.Process.Pid)
		if !strings.Contains(report, "removed stale cgroup") || !strings.Contains(report, want) {
			t.Errorf("%s: report %q does not name the removal and %q; reports %q", c.name, report, want, reports)
		}
		p.Wait()
		if ws := p.ProcessState.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Errorf("%s: its process ended with %v, want SIGKILL", c.name, p.ProcessState)
		}
	}
	if len(reports) != 3 {
		t.Errorf("%d reports, want 3: %q", len(reports), reports)
	}
}
