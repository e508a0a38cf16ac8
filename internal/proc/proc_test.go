package proc

import (
	"os"
	"slices"
	"testing"
)

func TestParseStat(t *testing.T) {
	// Field 22 (starttime) is 4242; comm holds a space and parentheses.
	stat := "123 (a) (b c) S 1 123 123 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 4242 1000 10 18446744073709551615\n"
	p, err := ParseStat([]byte(stat))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Stat{Comm: "a) (b c", State: 'S', PPid: 1, Start: 4242}); p != want {
		t.Errorf("ParseStat = %+v, want %+v", p, want)
	}
	for _, bad := range []string{"", "123 no comm", "123 (x) S 1", "123 (x) S x 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0"} {
		if p, err := ParseStat([]byte(bad)); err == nil {
			t.Errorf("ParseStat(%q) = %+v, want an error", bad, p)
		}
	}
	self, err := ReadStat(os.Getpid())
	if err != nil || self.PPid != os.Getppid() || !self.Alive() || self.Start == 0 {
		t.Errorf("ReadStat(self) = %+v, %v", self, err)
	}
	if !SameProcess(os.Getpid(), self.Start) || SameProcess(os.Getpid(), self.Start+1) {
		t.Error("SameProcess does not tell this process by its start time")
	}
	if _, err := ReadStat(1 << 30); err != ErrNoProcess {
		t.Errorf("ReadStat of a pid that cannot exist: %v, want ErrNoProcess", err)
	}
	id, err := Self()
	if err != nil || id.Pid != os.Getpid() || id.Start != self.Start || id.PidNS == 0 {
		t.Errorf("Self() = %+v, %v", id, err)
	}
}

// TestParseCgroups: the "0::" line of /proc/PID/cgroup is the cgroup v2
// path, whichever line it is; without one the process is in no cgroup v2;
// every line's path is listed.
func TestParseCgroups(t *testing.T) {
	for _, c := range []struct {
		data, want string
		ok         bool
		all        []string
	}{
		{"12:pids:/user.slice\n1:name=systemd:/user.slice/x\n0::/profgen-1-2-3-4/sub\n", "/profgen-1-2-3-4/sub", true,
			[]string{"/user.slice", "/user.slice/x", "/profgen-1-2-3-4/sub"}},
		{"0::/\n", "/", true, []string{"/"}},
		{"10::/not-v2\n1:cpu:/a\n", "", false, []string{"/not-v2", "/a"}},
		{"", "", false, nil},
	} {
		if got, ok, all := ParseCgroups([]byte(c.data)); got != c.want || ok != c.ok || !slices.Equal(all, c.all) {
			t.Errorf("ParseCgroups(%q) = %q, %v, %q; want %q, %v, %q", c.data, got, ok, all, c.want, c.ok, c.all)
		}
	}
	if v2 := CgroupV2(os.Getpid()); v2 == "" || v2[0] != '/' {
		t.Errorf("CgroupV2(self) = %q", v2)
	}
}

func TestParsePids(t *testing.T) {
	if got := ParsePids([]byte("1 22\n333\nx\n")); !slices.Equal(got, []int{1, 22, 333}) {
		t.Errorf("ParsePids = %v", got)
	}
}
