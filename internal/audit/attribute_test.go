package audit

import (
	"errors"
	"testing"
)

// cgroupsOf is a membership function over a fixed table: pid -> target;
// a pid not in it is gone.
func cgroupsOf(m map[int]string) func(int) (string, bool, error) {
	return func(pid int) (string, bool, error) {
		t, ok := m[pid]
		if !ok {
			return "", false, errors.New("gone")
		}
		return t, t != "", nil
	}
}

func TestAttributorAll(t *testing.T) {
	var a Attributor
	if v := a.Attribute(Record{Pid: 1}); v.Why != All || !v.In() {
		t.Errorf("zero attributor: %+v, want All", v)
	}
	a.Filter = func(r Record) bool { return r.Comm == "nginx" }
	if v := a.Attribute(Record{Pid: 1, Comm: "sh"}); v.In() {
		t.Errorf("filtered out record kept: %+v", v)
	}
	if v := a.Attribute(Record{Pid: 1, Comm: "nginx"}); v.Why != All {
		t.Errorf("filtered in record: %+v, want All", v)
	}
}

func TestAttributorSessions(t *testing.T) {
	a := Attributor{Sessions: map[uint32]bool{42: true}}
	if v := a.Attribute(Record{Ses: 42, Pid: 10}); v.Why != InSession {
		t.Errorf("watched session: %+v", v)
	}
	// Without Follow, a pid seen in the session is not followed.
	if v := a.Attribute(Record{Ses: 43, Pid: 10}); v.In() {
		t.Errorf("other session kept without Follow: %+v", v)
	}
}

func TestAttributorFollow(t *testing.T) {
	a := Attributor{Sessions: map[uint32]bool{42: true}, Follow: true}
	a.Attribute(Record{Ses: 42, Pid: 10})
	if v := a.Attribute(Record{Ses: 77, Pid: 10}); v.Why != Followed {
		t.Errorf("known pid in a new session: %+v, want Followed", v)
	}
	if v := a.Attribute(Record{Ses: 77, Pid: 11}); v.Why != InSession {
		t.Errorf("child in the adopted session: %+v, want InSession", v)
	}
	a.Attribute(Record{Ses: SessionUnset, Pid: 10})
	if a.Sessions[SessionUnset] {
		t.Error("the unset session was adopted")
	}
	// A process placed by its cgroup is followed too.
	a.Member = cgroupsOf(map[int]string{20: "t", 21: ""})
	if v := a.Attribute(Record{Ses: 88, Pid: 20}); v.Why != Followed || v.Target != "t" || !a.Sessions[88] {
		t.Errorf("cgroup member in its own session: %+v, sessions %v", v, a.Sessions)
	}
	if v := a.Attribute(Record{Ses: 89, Pid: 21}); v.In() {
		t.Errorf("non-member kept: %+v", v)
	}
	if v := a.Attribute(Record{Ses: 89, Pid: 22}); v.Why != Gone {
		t.Errorf("gone pid: %+v, want Gone", v)
	}
}

func TestAttributorMember(t *testing.T) {
	cg := map[int]string{1: "a", 2: "b", 3: ""}
	a := Attributor{Member: cgroupsOf(cg)}
	for pid, want := range map[int]Verdict{1: {InCgroup, "a"}, 2: {InCgroup, "b"}, 3: {}, 4: {Why: Gone}} {
		if v := a.Attribute(Record{Pid: pid}); v != want {
			t.Errorf("pid %d: %+v, want %+v", pid, v, want)
		}
	}
	// Without Cache, the membership function is asked every time.
	cg[3] = "a"
	if v := a.Attribute(Record{Pid: 3}); v.Why != InCgroup {
		t.Errorf("pid 3 moved: %+v, want InCgroup", v)
	}
}

func TestAttributorCache(t *testing.T) {
	cg := map[int]string{1: "a"}
	a := Attributor{Member: cgroupsOf(cg), Cache: true}
	a.Attribute(Record{Pid: 1})
	a.Attribute(Record{Pid: 2}) // gone: not remembered
	delete(cg, 1)
	cg[2] = "a"
	if v := a.Attribute(Record{Pid: 1}); v.Why != InCgroup {
		t.Errorf("cached pid 1: %+v, want InCgroup", v)
	}
	if v := a.Attribute(Record{Pid: 2}); v.Why != InCgroup {
		t.Errorf("pid 2, gone before, then placed: %+v, want InCgroup", v)
	}
}
