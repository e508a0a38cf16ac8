package trace

import (
	"os"
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
