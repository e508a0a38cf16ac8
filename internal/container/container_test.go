package container

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

func TestNamed(t *testing.T) {
	id := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		path, id string
		want     bool
	}{
		{"/system.slice/docker-" + id + ".scope", "abab", true},
		{"/machine.slice/libpod-" + id + ".scope/container", id, true},
		{"/docker/" + id, "ab", true},
		{"/kubepods/besteffort/pod1/" + id, id, true},
		{"/libpod_parent/libpod-" + id, "abab", true},
		{"/docker/" + id, "cd", false},
		{"/system.slice/nginx.service", "ab", false},
		{"/user.slice/" + id[:63], "ab", false}, // not a whole id
		{"/docker/" + id, "", false},
	} {
		if got := Named(tc.path, tc.id); got != tc.want {
			t.Errorf("Named(%q, %q) = %v, want %v", tc.path, tc.id, got, tc.want)
		}
	}
}

// TestCgroups reads this process's own cgroups and those of a process
// that has been reaped.
func TestCgroups(t *testing.T) {
	v2, all, err := Cgroups(os.Getpid())
	if err != nil || len(all) == 0 || !strings.HasPrefix(v2, "/") {
		t.Fatalf("Cgroups(self) = %q, %v, %v", v2, all, err)
	}
	cmd := exec.Command("/bin/true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Cgroups(cmd.Process.Pid); !errors.Is(err, ErrGone) {
		t.Errorf("Cgroups of a reaped process: %v, want ErrGone", err)
	}
	if in, err := In(os.Getpid(), strings.Repeat("0", 64)); in || err != nil {
		t.Errorf("In(self, zeros) = %v, %v", in, err)
	}
}

// TestCache: the cgroups of a process read while it ran are still given
// once it has been reaped; those of a process never read are not.
func TestCache(t *testing.T) {
	var c Cache
	cmd := exec.Command("/bin/sleep", "10")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	v2, all, err := c.Cgroups(pid)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if _, _, err := Cgroups(pid); !errors.Is(err, ErrGone) {
		t.Fatalf("Cgroups of the reaped sleep: %v, want ErrGone", err)
	}
	if v, a, err := c.Cgroups(pid); err != nil || v != v2 || strings.Join(a, ",") != strings.Join(all, ",") {
		t.Errorf("cached cgroups of the reaped sleep: %q %v %v, want %q %v", v, a, err, v2, all)
	}
	other := exec.Command("/bin/true")
	if err := other.Run(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Cgroups(other.Process.Pid); !errors.Is(err, ErrGone) {
		t.Errorf("a process never read: %v, want ErrGone", err)
	}
}

// TestProcs finds a cgroup named like a container's in the host's cgroup
// v2 hierarchy and the process moved into it.
func TestProcs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("making a cgroup needs root")
	}
	mounts, err := Mounts()
	if err != nil || len(mounts) == 0 {
		t.Fatalf("Mounts: %v, %v", mounts, err)
	}
	v2 := ""
	for _, m := range mounts {
		if _, err := os.Stat(m + "/cgroup.controllers"); err == nil {
			v2 = m
		}
	}
	if v2 == "" {
		t.Fatalf("no cgroup v2 mount among %v", mounts)
	}
	id := strings.Repeat("5e", 32)
	dir := v2 + "/profgen-container-test/docker-" + id + ".scope"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(v2 + "/profgen-container-test")
	defer os.Remove(dir)
	cmd := exec.Command("/bin/sleep", "10")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	if err := os.WriteFile(dir+"/cgroup.procs", []byte(strconv.Itoa(cmd.Process.Pid)), 0o644); err != nil {
		t.Fatal(err)
	}
	dirs := Dirs(mounts, id[:12])
	if len(dirs) != 1 || dirs[0] != dir {
		t.Fatalf("Dirs = %v, want [%s]", dirs, dir)
	}
	if pids := Procs(dirs); len(pids) != 1 || pids[0] != cmd.Process.Pid {
		t.Errorf("Procs = %v, want [%d]", pids, cmd.Process.Pid)
	}
	if in, err := In(cmd.Process.Pid, id[:12]); !in || err != nil {
		t.Errorf("In = %v, %v", in, err)
	}
}
