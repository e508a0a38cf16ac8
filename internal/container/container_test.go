package container

import (
	"errors"
	"os"
	"os/exec"
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
