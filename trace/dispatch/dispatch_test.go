package dispatch

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

func TestRoutesSpan(t *testing.T) {
	type slot struct {
		i     int
		level uint32
	}
	for _, tc := range []struct {
		slots    []slot
		n, level uint32
	}{
		{nil, 0, 0},
		{[]slot{{0, 3}}, 1, 3},
		{[]slot{{2, 3}}, 3, 3},
		{[]slot{{0, 3}, {5, 3}}, 6, 3},
		{[]slot{{0, 3}, {1, 4}}, 2, 0},
		{[]slot{{1, 4}, {3, 3}, {4, 3}}, 5, 0},
		{[]slot{{0, 3}, {1, 3}, {15, 2}}, 16, 0},
	} {
		var r Routes
		r.N, r.Level = 99, 99
		for _, s := range tc.slots {
			r.S[s.i].Level, r.S[s.i].Cgid = s.level, uint64(100+s.i)
		}
		r.span()
		if r.N != tc.n || r.Level != tc.level {
			t.Errorf("%v: n %d level %d, want %d %d", tc.slots, r.N, r.Level, tc.n, tc.level)
		}
	}
}

// FuzzDispatchRegistry: whatever the registry file holds, it parses into
// slots the dispatcher has and processes with a pid, and what parsed
// round-trips unchanged.
func FuzzDispatchRegistry(f *testing.F) {
	f.Add([]byte(`{"procs":[{"pid":12,"start":3,"pidns":4026531836,"link_id":7,"link_fd":9,"routes_fd":10,"progs_fd":11,"cgroups_fd":12}],` +
		`"slots":[{"link_id":7,"slot":0,"pid":12,"start":3,"pidns":4026531836,"cgroup":"/sys/fs/cgroup/profgen-12-3-4026531836-1"}]}`))
	f.Add([]byte(`{"procs":[],"slots":[{"slot":16,"cgroup":"/x"},{"slot":-1,"cgroup":"/x"},{"slot":3,"cgroup":"rel"}]}`))
	f.Add([]byte(`{"procs":[{"pid":-4}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		reg := parseDispatchRegistry(data)
		for _, s := range reg.Slots {
			if s.Slot < 0 || s.Slot >= Slots || !filepath.IsAbs(s.Cgroup) {
				t.Fatalf("slot %+v kept", s)
			}
		}
		for _, p := range reg.Procs {
			if p.Pid <= 0 {
				t.Fatalf("process %+v kept", p)
			}
		}
		// What parsed is stable: written and read back, it is the same.
		out, err := json.Marshal(reg)
		if err != nil {
			t.Fatal(err)
		}
		again := parseDispatchRegistry(out)
		if !reflect.DeepEqual(normal(again), normal(reg)) {
			t.Fatalf("round trip: %+v, then %+v", reg, again)
		}
	})
}

// normal makes nil and empty lists alike, as JSON does.
func normal(r *Reg) Reg {
	n := Reg{Procs: r.Procs, Slots: slices.Clone(r.Slots)}
	if len(n.Procs) == 0 {
		n.Procs = nil
	}
	if len(n.Slots) == 0 {
		n.Slots = nil
	}
	for i := range n.Slots {
		if len(n.Slots[i].Chain) == 0 {
			n.Slots[i].Chain = nil
		}
	}
	return n
}
