package recording

import (
	"slices"
	"testing"
)

// TestCurve: each step lists what the inputs before it did not make, a
// shape new to a known syscall included, and the running totals.
func TestCurve(t *testing.T) {
	args := []Arg{{Index: 0, Name: "domain", Kind: KindEnum, Mask: 0xffffffff}}
	rec := func(calls ...Syscall) *Recording { return &Recording{Inputs: 1, Syscalls: calls} }
	socket := func(domains ...Hex) Syscall {
		s := Syscall{Name: "socket", Args: args}
		for _, d := range domains {
			s.Shapes = append(s.Shapes, Shape{Values: []Hex{d}, Count: 1, Seen: 1})
		}
		return s
	}
	curve := Curve(
		rec(Syscall{Name: "read"}, socket(2)),
		rec(Syscall{Name: "read"}, socket(2)),
		rec(Syscall{Name: "read"}, socket(16, 2)),
		rec(Syscall{Name: "write"}, Syscall{Name: "read"}),
		rec(Syscall{Name: "read"}),
	)
	want := []struct {
		syscalls []string
		shapes   []Hex
		total    [2]int
	}{
		{[]string{"read", "socket"}, []Hex{2}, [2]int{2, 1}},
		{nil, nil, [2]int{2, 1}},
		{nil, []Hex{16}, [2]int{2, 2}},
		{[]string{"write"}, nil, [2]int{3, 2}},
		{nil, nil, [2]int{3, 2}},
	}
	if len(curve) != len(want) {
		t.Fatalf("%d steps, want %d", len(curve), len(want))
	}
	for i, w := range want {
		st := curve[i]
		var shapes []Hex
		for _, sh := range st.NewShapes {
			if sh.Syscall != "socket" || len(sh.Args) != 1 {
				t.Errorf("step %d: shape %+v", i+1, sh)
			}
			shapes = append(shapes, sh.Values...)
		}
		if st.Input != i+1 || !slices.Equal(st.NewSyscalls, w.syscalls) && len(st.NewSyscalls)+len(w.syscalls) > 0 ||
			!slices.Equal(shapes, w.shapes) || [2]int{st.Syscalls, st.Shapes} != w.total || st.Added() != (len(w.syscalls)+len(w.shapes) > 0) {
			t.Errorf("step %d: %+v, want %+v", i+1, st, w)
		}
	}
	if u := Unsaturated(curve, 1); len(u) != 0 {
		t.Errorf("last input: %+v added something", u)
	}
	if u := Unsaturated(curve, 2); len(u) != 1 || u[0].Input != 4 {
		t.Errorf("last 2 inputs: %+v, want input 4", u)
	}
	if u := Unsaturated(curve, 9); len(u) != 3 {
		t.Errorf("all inputs: %+v, want 3 steps", u)
	}
}
