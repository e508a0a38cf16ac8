package trace

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/profgen/profgen/internal/cgroup"
	"github.com/profgen/profgen/internal/proc"
)

// killedRecorderEnv makes the test binary a recorder that a test kills:
// "tree:FIFO" or "cgroup:FIFO" records, in process-tree or cgroup mode, a
// target that ignores SIGTERM and writes its pid to FIFO.
const killedRecorderEnv = "PROFGEN_TEST_KILLED_RECORDER"

// "escape:FIFO:CGROUP" records a target whose child, after a pause in the
// recording's cgroup, moves to CGROUP and writes its pid to FIFO.
func killedRecorder(v string) int {
	mode, fifo, _ := strings.Cut(v, ":")
	backend, err := NewEBPF(EBPFOptions{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	script := "trap '' TERM; echo $$ > " + fifo + "; exec sleep 100"
	if mode == "escape" {
		fifo, sibling, _ := strings.Cut(fifo, ":")
		script = fmt.Sprintf("sh -c 'sleep 0.1; echo $$ > %s/cgroup.procs; echo $$ > %s; exec sleep 100' & wait", sibling, fifo)
	}
	_, err = Record(context.Background(), Options{
		Command:  []string{"sh", "-c", script},
		Backend:  backend,
		NoCgroup: mode == "tree",
		Stdout:   os.Stdout,
		Stderr:   os.Stderr,
	})
	fmt.Fprintln(os.Stderr, "Record returned:", err)
	return 2
}

// TestRecorderKilled SIGKILLs a process in the middle of Record: its target,
// which ignores SIGTERM, does not outlive it. In cgroup mode the reaper
// kills the cgroup and removes it; in process-tree mode the target's
// parent-death signal kills it.
func TestRecorderKilled(t *testing.T) {
	for _, mode := range []string{"cgroup", "tree"} {
		t.Run(mode, func(t *testing.T) {
			rec, target := startKilledRecorder(t, mode)
			t.Cleanup(func() { syscall.Kill(target, syscall.SIGKILL) })
			targetInfo, err := proc.ReadStat(target)
			if err != nil {
				t.Fatal(err)
			}
			mnt, err := cgroup.V2Mount()
			if err != nil {
				t.Fatal(err)
			}
			cgs, _ := filepath.Glob(filepath.Join(mnt, cgroup.Prefix+strconv.Itoa(rec.Process.Pid)+"-*"))
			if want := map[string]int{"cgroup": 1, "tree": 0}[mode]; len(cgs) != want {
				t.Fatalf("cgroups of the recorder: %v, want %d", cgs, want)
			}

			rec.Process.Kill()
			rec.Wait()
			// The bound only keeps a broken reaper from hanging the test.
			deadline := time.Now().Add(20 * time.Second)
			for {
				running := proc.SameProcess(target, targetInfo.Start)
				there := len(cgs) > 0 && exists(cgs[0])
				if !running && !there {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("20 s after SIGKILL of the recorder: target %d running %v, cgroup %v there %v", target, running, cgs, there)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

// startKilledRecorder starts this test binary as a recorder (killedRecorder)
// in mode ("cgroup", "tree" or "escape:CGROUP") and returns it with the pid
// its target writes to a FIFO once it runs.
func startKilledRecorder(t *testing.T, mode string) (*exec.Cmd, int) {
	t.Helper()
	fifo := filepath.Join(t.TempDir(), "pid")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	m, sibling, escape := strings.Cut(mode, ":")
	v := m + ":" + fifo
	if escape {
		v += ":" + sibling
	}
	rec := exec.Command(os.Args[0])
	rec.Env = append(os.Environ(), killedRecorderEnv+"="+v)
	rec.Stderr = os.Stderr
	if err := rec.Start(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(fifo)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	return rec, pid
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// TestRecorderKilledEscape SIGKILLs a recorder whose target has a process
// outside the recording's cgroup: the reaper kills that process too.
func TestRecorderKilledEscape(t *testing.T) {
	sibling, _ := siblingCgroup(t)
	rec, escaped := startKilledRecorder(t, "escape:"+sibling)
	t.Cleanup(func() { syscall.Kill(escaped, syscall.SIGKILL) })
	info, err := proc.ReadStat(escaped)
	if err != nil {
		t.Fatal(err)
	}
	// The recorder holds a pidfd of the process once it found it (and
	// told the reaper just before).
	for i := 0; !holdsPidfd(rec.Process.Pid, escaped); i++ {
		if i == 2000 {
			t.Fatalf("the recorder never found process %d outside its cgroup", escaped)
		}
		time.Sleep(10 * time.Millisecond)
	}
	rec.Process.Kill()
	rec.Wait()
	deadline := time.Now().Add(20 * time.Second)
	for proc.SameProcess(escaped, info.Start) {
		if time.Now().After(deadline) {
			t.Fatalf("20 s after SIGKILL of the recorder, the escaped process %d runs", escaped)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// holdsPidfd reports whether process pid has a pidfd of process target open.
func holdsPidfd(pid, target int) bool {
	dir := fmt.Sprintf("/proc/%d/fdinfo", pid)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		data, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		for _, line := range strings.Split(string(data), "\n") {
			if f := strings.Fields(line); len(f) == 2 && f[0] == "Pid:" && f[1] == strconv.Itoa(target) {
				return true
			}
		}
	}
	return false
}
