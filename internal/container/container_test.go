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
