package trace

import (
	"os"
	"path/filepath"
	"testing"
)

func TestParseProcStat(t *testing.T) {
	// Field 22 (starttime) is 4242; comm holds a space and parentheses.
	stat := "123 (a) (b c) S 1 123 123 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 4242 1000 10 18446744073709551615\n"
	p, err := parseProcStat([]byte(stat))
	if err != nil {
		t.Fatal(err)
	}
	if want := (procInfo{Comm: "a) (b c", State: 'S', PPid: 1, Start: 4242}); p != want {
		t.Errorf("parseProcStat = %+v, want %+v", p, want)
	}
	for _, bad := range []string{"", "123 no comm", "123 (x) S 1", "123 (x) S x 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0"} {
		if p, err := parseProcStat([]byte(bad)); err == nil {
			t.Errorf("parseProcStat(%q) = %+v, want an error", bad, p)
		}
	}
	self, err := readProc(os.Getpid())
	if err != nil || self.PPid != os.Getppid() || !self.alive() || self.Start == 0 {
		t.Errorf("readProc(self) = %+v, %v", self, err)
	}
	if !sameProcess(os.Getpid(), self.Start) || sameProcess(os.Getpid(), self.Start+1) {
		t.Error("sameProcess does not tell this process by its start time")
	}
	if _, err := readProc(1 << 30); err != errNoProcess {
		t.Errorf("readProc of a pid that cannot exist: %v, want errNoProcess", err)
	}
}

// TestCgroupV2Path: the "0::" line of /proc/PID/cgroup is the cgroup v2
// path, whichever line it is; without one the process is in no cgroup v2.
func TestCgroupV2Path(t *testing.T) {
	for _, c := range []struct {
		data, want string
		ok         bool
	}{
		{"12:pids:/user.slice\n1:name=systemd:/user.slice/x\n0::/profgen-1-2-3-4/sub\n", "/profgen-1-2-3-4/sub", true},
		{"0::/\n", "/", true},
		{"10::/not-v2\n1:cpu:/a\n", "", false},
		{"", "", false},
	} {
		if got, ok := cgroupV2Path([]byte(c.data)); got != c.want || ok != c.ok {
			t.Errorf("cgroupV2Path(%q) = %q, %v; want %q, %v", c.data, got, ok, c.want, c.ok)
		}
	}
	// This process's own, against what CgroupOf makes of it.
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	rel, ok := cgroupV2Path(data)
	mnt, err := Cgroup2Mount()
	if err != nil {
		t.Fatal(err)
	}
	if abs, err := CgroupOf(os.Getpid()); !ok || err != nil || abs != filepath.Join(mnt, rel) {
		t.Errorf("own cgroup: %q %v, CgroupOf %q %v", rel, ok, abs, err)
	}
}
