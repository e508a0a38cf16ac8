package trace

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/cgroup"
	"github.com/profgen/profgen/internal/proc"
)

// siblingSeq numbers the sibling cgroups of this test process.
var siblingSeq atomic.Uint64

// siblingCgroup makes a cgroup beside the recordings' ones (outside every
// recording's cgroup) for a target to escape to.
func siblingCgroup(t *testing.T) (path, rel string) {
	t.Helper()
	mnt, err := cgroup.V2Mount()
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("profgentest-escape-%d-%d", os.Getpid(), siblingSeq.Add(1))
	path = filepath.Join(mnt, name)
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cgroup.KillAndRemove(path); err != nil {
			t.Errorf("remove %s: %v", path, err)
		}
	})
	return path, "/" + name
}

// readPid waits for nothing: it reads the pid a target wrote to file.
func readPid(t *testing.T, file string) int {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("the target did not write its escaping process's pid: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// checkEscape checks that process pid, which moved to the cgroup rel, was
// reported in the recording and the warnings, and that it is stopped.
func checkEscape(t *testing.T, res *Result, pid int, sibling, rel string) {
	t.Helper()
	want := fmt.Sprintf("process %d (sleep) of the target left the recording's cgroup for %s", pid, rel)
	has := func(s string) bool { return strings.HasPrefix(s, want) }
	if !slices.ContainsFunc(res.Recording.Notes, has) {
		t.Errorf("no note %q in %q", want, res.Recording.Notes)
	}
	if !slices.ContainsFunc(res.Warnings, has) {
		t.Errorf("no warning %q in %q", want, res.Warnings)
	}
	if p, err := proc.ReadStat(pid); err == nil && p.Alive() && p.Comm == "sleep" {
		t.Errorf("escaped process %d still runs after Record returned", pid)
	}
	if pids := cgroup.ReadProcs(filepath.Join(sibling, "cgroup.procs")); len(pids) != 0 {
		t.Errorf("cgroup %s still holds %v", sibling, pids)
	}
}

// TestRecordEscape: the target moves a child into a cgroup outside the
// recording's; the driver ends the recording while the target waits for
// the child. With either backend the child is reported and stopped.
func TestRecordEscape(t *testing.T) {
	for _, backend := range []string{"ebpf", "log"} {
		t.Run(backend, func(t *testing.T) {
			sibling, rel := siblingCgroup(t)
			dir := t.TempDir()
			pidFile := filepath.Join(dir, "pid")
			script := fmt.Sprintf("sleep 100 & echo $! > %s/cgroup.procs && echo $! > %s.tmp && mv %s.tmp %s; wait",
				sibling, pidFile, pidFile, pidFile)
			opts := Options{
				Command: []string{"sh", "-c", script},
				// Until the child runs sleep, which the note names.
				Drive: fmt.Sprintf("while [ ! -e %s ] || [ \"$(cat /proc/$(cat %s)/comm)\" != sleep ]; do sleep 0.01; done", pidFile, pidFile),
			}
			if backend == "log" {
				opts.Backend = newTestLog(t, LogOptions{})
			}
			res := record(t, opts)
			checkEscape(t, res, readPid(t, pidFile), sibling, rel)
		})
	}
}

// TestRecordEscapeOutlivesTarget: a child moves itself out of the
// recording's cgroup and the target's main process exits. The cgroup is
// empty, so the recording ends; the child is reported and stopped.
func TestRecordEscapeOutlivesTarget(t *testing.T) {
	sibling, rel := siblingCgroup(t)
	pidFile := filepath.Join(t.TempDir(), "pid")
	child := fmt.Sprintf("sleep 0.2; echo \\$\\$ > %s/cgroup.procs && echo \\$\\$ > %s.tmp && mv %s.tmp %s; exec sleep 100",
		sibling, pidFile, pidFile, pidFile)
	// The main process exits once the child runs sleep: the note names
	// the escaped process by the command it runs when the recording ends.
	script := fmt.Sprintf("sh -c \"%s\" & while [ ! -e %s ] || [ \"$(cat /proc/$(cat %s)/comm)\" != sleep ]; do sleep 0.01; done",
		child, pidFile, pidFile)
	res := record(t, Options{Command: []string{"sh", "-c", script}})
	if res.ExitCode != 0 || res.Recording.Interrupted {
		t.Errorf("exit %d interrupted %v, want the target's own 0", res.ExitCode, res.Recording.Interrupted)
	}
	checkEscape(t, res, readPid(t, pidFile), sibling, rel)
}

// TestRecordSubCgroupIsNoEscape: a process that moves into a sub-cgroup of
// the recording's cgroup stays in the recording: no escape, and the
// sub-cgroup is removed with the recording's.
func TestRecordSubCgroupIsNoEscape(t *testing.T) {
	mnt, err := cgroup.V2Mount()
	if err != nil {
		t.Fatal(err)
	}
	script := fmt.Sprintf(`cg=%s$(sed -n 's/^0:://p' /proc/self/cgroup) && mkdir "$cg/sub" && sh -c 'echo $$ > "$1/sub/cgroup.procs" && exec sleep 0.2' sub "$cg"`, mnt)
	res := record(t, Options{Command: []string{"sh", "-c", script}})
	if res.ExitCode != 0 {
		t.Fatalf("exit %d: the script failed", res.ExitCode)
	}
	for _, n := range append(res.Recording.Notes, res.Warnings...) {
		if strings.Contains(n, "left the recording's cgroup") {
			t.Errorf("a move into a sub-cgroup reported as an escape: %q", n)
		}
	}
}

// forkOutEnv makes the test binary start `sleep 100` directly in the
// cgroup directory it names (clone3 with CLONE_INTO_CGROUP), print the
// child's pid and wait for it.
const forkOutEnv = "PROFGEN_TEST_FORK_OUT"

func forkOut(dir string) int {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cmd := exec.Command("sleep", "100")
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(cmd.Process.Pid)
	cmd.Wait()
	return 0
}

// TestEscapeWatched: with the eBPF backend's WatchMoves the tracker finds
// a process that left the cgroup by the kernel's word alone: its periodic
// looks are an hour apart, and the test never asks for one. Both ways out:
// a process that moves itself (cgroup_attach_task) and a child born in
// another cgroup (clone3 CLONE_INTO_CGROUP, seen at sched_process_fork).
func TestEscapeWatched(t *testing.T) {
	saved := cgroup.EscapeWatchedInterval
	cgroup.EscapeWatchedInterval = time.Hour
	t.Cleanup(func() { cgroup.EscapeWatchedInterval = saved })
	for _, how := range []string{"moved", "born outside"} {
		t.Run(how, func(t *testing.T) {
			sibling, _ := siblingCgroup(t)
			cg, err := cgroup.New()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cg.Close() })
			e := newTestEBPF(t, EBPFOptions{})
			if err := e.Prepare(&Target{Cgroup: cg}); err != nil {
				t.Fatal(err)
			}
			moves, err := e.WatchMoves()
			if err != nil {
				t.Fatalf("WatchMoves: %v", err)
			}
			var cmd *exec.Cmd
			if how == "moved" {
				// After the tracker's first look has remembered it.
				cmd = exec.Command("sh", "-c", fmt.Sprintf("sleep 0.2; echo $$ > %s/cgroup.procs; echo $$; exec sleep 100", sibling))
			} else {
				cmd = exec.Command(os.Args[0])
				cmd.Env = append(os.Environ(), forkOutEnv+"="+sibling)
			}
			cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: cg.FD()}
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				cmd.Process.Kill()
				cmd.Wait()
			})
			tr := cgroup.TrackEscapes(cg, cmd.Process.Pid, moves)
			t.Cleanup(tr.Close)
			line, err := bufio.NewReader(out).ReadString('\n')
			if err != nil {
				t.Fatalf("the target printed no pid: %v", err)
			}
			pid, err := strconv.Atoi(strings.TrimSpace(line))
			if err != nil {
				t.Fatal(err)
			}
			for start := time.Now(); !slices.Contains(tr.Live(), pid); {
				if time.Since(start) > 10*time.Second {
					t.Fatalf("process %d left the cgroup %s ago and the tracker did not see it (escaped: %v)", pid, time.Since(start).Round(time.Millisecond), tr.Live())
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}
