package monitor

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/profgen/profgen/internal/enginetest"
	"github.com/profgen/profgen/internal/testenv"
	"github.com/profgen/profgen/internal/workload"
)

// containerProfile logs getppid, kills the process on personality and
// allows everything else: manycalls N, under it, makes N logged calls and
// then one that is denied (killed), both audited whatever the runtime's
// support for SECCOMP_FILTER_FLAG_LOG.
const containerProfile = `{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"],
"syscalls":[{"names":["getppid"],"action":"SCMP_ACT_LOG"},{"names":["personality"],"action":"SCMP_ACT_KILL_PROCESS"}]}`

// TestMonitorContainer runs two containers at once under containerProfile
// in podman and in docker (each engine's own store or daemon), manycalls 3
// in one and manycalls 5 in the other, and checks that a monitor with
// --container ID of each sees exactly that container's 3 (or 5) logged
// getppid calls and its one personality killed, decoded, and nothing of
// the other container; a monitor of every manycalls sees both.
//
// Each container's shell (its getppid at start is logged) waits for a
// line before it execs manycalls, which dies of its denial at once: its
// records arrive after it is gone, and are placed by the cgroups read
// for the shell's, the same process (container.Cache).
func TestMonitorContainer(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("containers need root")
	}
	dir := t.TempDir()
	bin, profgen, prof, tar := containerSetup(t, dir)
	t.Run("podman", func(t *testing.T) {
		if _, err := exec.LookPath("podman"); err != nil {
			t.Skip("podman is not installed (make deps installs it)")
		}
		p := newPodman(t, tar)
		args := append([]string{"create", "--security-opt", "seccomp=" + prof}, enginetest.PodmanRunArgs(bin, t.TempDir())...)
		checkContainers(t, profgen, p.Cmd, args)
	})
	t.Run("docker", func(t *testing.T) {
		if _, err := exec.LookPath("dockerd"); err != nil {
			t.Skip("dockerd is not installed (make deps installs docker.io)")
		}
		d, err := enginetest.StartDocker(filepath.Join(dir, "docker"), tar, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Stop()
		args := append([]string{"create", "--security-opt", "seccomp=" + prof}, enginetest.DockerRunArgs(bin, t.TempDir())...)
		checkContainers(t, profgen, d.Cmd, args)
	})
}

// containerSetup builds manycalls and profgen (into dir), writes
// containerProfile and the test image's rootfs tar there.
func containerSetup(t *testing.T, dir string) (bin, profgen, prof, tar string) {
	t.Helper()
	bin = workload.Build(t, "manycalls")
	profgen = filepath.Join(dir, "profgen")
	if b, err := exec.Command("go", "build", "-o", profgen, "../cmd/profgen").CombinedOutput(); err != nil {
		t.Fatalf("build profgen: %v\n%s", err, b)
	}
	prof = filepath.Join(dir, "seccomp.json")
	if err := os.WriteFile(prof, []byte(containerProfile), 0o644); err != nil {
		t.Fatal(err)
	}
	tar, err := enginetest.RootfsTar(dir)
	if err != nil {
		t.Fatal(err)
	}
	return bin, profgen, prof, tar
}

// newPodman is podman with its own store, holding the image of tar,
// removed when t ends.
func newPodman(t *testing.T, tar string) *enginetest.Podman {
	t.Helper()
	// podman refuses a run root path longer than 50 characters.
	pdir, err := os.MkdirTemp("", "profgen-mon-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(pdir) })
	p, err := enginetest.NewPodman(pdir, tar)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Remove)
	return p
}

// checkContainers creates two containers with engine (podman or docker)
// create args, watches them, starts both at once and checks what each
// --container monitor saw: a Monitor of each, and `profgen monitor
// --container ID` of the first.
func checkContainers(t *testing.T, profgen string, engine func(...string) *exec.Cmd, create []string) {
	t.Helper()
	counts := []int{3, 5}
	ids := make([]string, len(counts))
	for i, n := range counts {
		code, out := enginetest.Run(t, engine(append(create, "-i", enginetest.TestImage, "/bin/sh", "-c", "read x; exec /w/manycalls "+fmt.Sprint(n))...))
		if code != 0 {
			t.Fatalf("create: exit %d\n%s", code, out)
		}
		f := strings.Fields(out)
		ids[i] = f[len(f)-1]
		defer engine("rm", "-f", ids[i]).Run()
	}
	mons := make([]*running, len(counts))
	for i := range counts {
		mons[i] = startMonitor(t, Options{Filter: Filter{Container: ids[i][:12]}})
	}
	all := startMonitor(t, Options{Filter: Filter{Comm: "manycalls"}})
	cli := startCLI(t, profgen, ids[0][:12])
	var wg sync.WaitGroup
	codes := make([]int, len(counts))
	outs := make([]strings.Builder, len(counts))
	for i := range counts {
		cmd := engine("start", "--attach", "--interactive", ids[i])
		cmd.Stdout, cmd.Stderr = &outs[i], &outs[i]
		in, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd.Wait()
			codes[i] = cmd.ProcessState.ExitCode()
		}()
		// The shell's getppid, or runc's init's, placed while it runs.
		waitLines(t, mons[i], 1)
		fmt.Fprintln(in)
		in.Close()
	}
	wg.Wait()
	for i := range counts {
		// 128+SIGSYS: killed on personality, after its getppid calls.
		if codes[i] != 159 || strings.Contains(outs[i].String(), "manycalls: ") {
			t.Errorf("container %d: exit %d, want 159 (killed by SIGSYS before it reports)\n%s", i, codes[i], outs[i].String())
		}
	}
	waitLines(t, all, counts[0]+counts[1]+2)
	// The shell's getppid and runc's init's (in the container's cgroup
	// and under its filter) are the container's too.
	pids := make([]map[int]bool, len(counts))
	for i, n := range counts {
		r := mons[i]
		waitLines(t, r, n+2)
		time.Sleep(200 * time.Millisecond) // anything more would come now
		r.stop(t)
		pids[i] = map[int]bool{}
		logged, killed := 0, 0
		for _, ev := range events(t, r.out.lines(), 0) {
			pids[i][ev.Process.Pid] = true
			if ev.Process.Comm != "manycalls" {
				if ev.Process.Comm != "runc:[2:INIT]" && ev.Process.Comm != "sh" || ev.Syscall.Name != "getppid" {
					t.Errorf("--container %s: unexpected event %+v", ids[i][:12], ev)
				}
				continue
			}
			switch {
			case ev.Syscall.Name == "getppid" && ev.Action.Name == "log" && ev.Syscall.Arch == "amd64":
				logged++
			case ev.Syscall.Name == "personality" && ev.Action.Name == "kill_process" && ev.Details.Signal == 31:
				killed++
			default:
				t.Errorf("--container %s: unexpected event %+v", ids[i][:12], ev)
			}
		}
		if logged != n || killed != 1 {
			t.Errorf("--container %s: manycalls made %d getppid logged and %d personality killed, want %d and 1 (the other container's made %d)",
				ids[i][:12], logged, killed, n, counts[1-i])
		}
	}
	// The command line's monitor of the first container saw what its
	// Monitor saw.
	cliEvents := events(t, cli(), 0)
	n := 0
	for _, ev := range cliEvents {
		if !pids[0][ev.Process.Pid] {
			t.Errorf("profgen monitor --container %s: event of another container %+v", ids[0][:12], ev)
		}
		if ev.Process.Comm == "manycalls" && (ev.Syscall.Name == "getppid" && ev.Action.Name == "log" ||
			ev.Syscall.Name == "personality" && ev.Action.Name == "kill_process") {
			n++
		}
	}
	if n != counts[0]+1 {
		t.Errorf("profgen monitor --container %s: %d of manycalls' events, want %d: %v", ids[0][:12], n, counts[0]+1, cliEvents)
	}
	for pid := range pids[0] {
		if pids[1][pid] {
			t.Errorf("pid %d was seen by the monitors of both containers", pid)
		}
	}
	// Both containers' manycalls reached the socket: each monitor left
	// the other's out.
	seen := map[int]bool{}
	for _, ev := range events(t, all.out.lines(), 0) {
		seen[ev.Process.Pid] = true
		if !pids[0][ev.Process.Pid] && !pids[1][ev.Process.Pid] {
			t.Errorf("manycalls pid %d was seen by neither container's monitor", ev.Process.Pid)
		}
	}
	if len(seen) != 2 {
		t.Errorf("the monitor of every manycalls saw pids %v, want the two containers'", seen)
	}
}

// waitLines waits (at most a minute) until r wrote n event lines.
func waitLines(t *testing.T, r *running, n int) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if len(events(t, r.out.lines(), 0)) >= n {
			return
		}
	}
	t.Fatalf("fewer than %d events: %v", n, r.out.lines())
}

// startCLI starts `profgen monitor --container id -o FILE` and returns
// once it reads the audit socket; the function it returns stops it with
// SIGTERM and returns the lines it wrote.
func startCLI(t *testing.T, profgen, id string) func() []string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "monitor.json")
	cmd := exec.Command(profgen, "monitor", "--container", id, "-o", out)
	testenv.StartMonitor(t, cmd)
	return func() []string {
		time.Sleep(200 * time.Millisecond) // anything more would come now
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Errorf("profgen monitor: %v", err)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Split(strings.TrimSpace(string(data)), "\n")
	}
}
