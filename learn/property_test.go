package learn_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/recording"
)

// argUniverse is what randomRecording draws captured arguments from: the
// argument table's kinds, masks and exclusive sets.
var argUniverse = []struct {
	name string
	nr   int
	args []recording.Arg
}{
	{"socket", 41, []recording.Arg{
		{Index: 0, Name: "domain", Kind: recording.KindEnum, Mask: 0xffffffff},
		{Index: 1, Name: "type", Kind: recording.KindEnum, Mask: 0xfff7f7ff},
		{Index: 2, Name: "protocol", Kind: recording.KindEnum, Mask: 0xffffffff},
	}},
	{"mmap", 9, []recording.Arg{{Index: 2, Name: "prot", Kind: recording.KindFlags, Mask: 0xffffffff, Exclusive: []recording.Hex{6}}}},
	{"clone", 56, []recording.Arg{{Index: 0, Name: "flags", Kind: recording.KindFlags, Mask: 0xffffffffffffffff}}},
	{"fcntl", 72, []recording.Arg{
		{Index: 1, Name: "cmd", Kind: recording.KindEnum, Mask: 0xffffffff},
		{Index: 2, Name: "arg", Kind: recording.KindFlags, Mask: 0xffffffff},
	}},
	{"futex", 202, []recording.Arg{{Index: 1, Name: "op", Kind: recording.KindEnum, Mask: 0xfffffe7f}}},
	{"read", 0, nil},
}

func randomShapes(rng *rand.Rand) *recording.Recording {
	r := &recording.Recording{Version: 1, Arch: "amd64", ArgShapes: true, Inputs: 1}
	for _, u := range argUniverse {
		if rng.IntN(4) == 0 {
			continue
		}
		s := recording.Syscall{Name: u.name, Number: u.nr, Count: 1, Seen: 1, Args: u.args}
		seen := map[string]bool{}
		for range 1 + rng.IntN(12) {
			var v []recording.Hex
			for _, a := range u.args {
				x := uint64(rng.IntN(8))
				if a.Kind == recording.KindFlags {
					x = rng.Uint64() & rng.Uint64() & rng.Uint64()
				}
				v = append(v, recording.Hex(x&uint64(a.Mask)))
			}
			if len(v) == 0 || seen[fmt.Sprint(v)] {
				continue
			}
			seen[fmt.Sprint(v)] = true
			s.Shapes = append(s.Shapes, recording.Shape{Values: v, Count: 1, Seen: 1})
		}
		r.Syscalls = append(r.Syscalls, s)
	}
	r.Normalize()
	return r
}

// TestLearnedAllowsRecorded: whatever was recorded, in any input of a
// merge, the profile learned from the merge allows it, whatever the upper
// half of a 32-bit argument holds; a value with a bit no input set in a
// pinned flags argument is denied; and every learned rule passes Check
// (the reader would accept it).
func TestLearnedAllowsRecorded(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 13))
	for i := range 300 {
		a, b := randomShapes(rng), randomShapes(rng)
		m, err := recording.Merge(a, b)
		if err != nil {
			t.Fatal(err)
		}
		opts := learn.Options{MaxValues: []int{0, 1, 3, 8}[rng.IntN(4)]}
		p, err := learn.FromRecording(m, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range p.Syscalls {
			for _, r := range s.Rules {
				if err := r.Check(); err != nil {
					t.Fatalf("case %d: learned a rule that never matches: %s: %v", i, s.Name, err)
				}
			}
		}
		for _, r := range []*recording.Recording{a, b} {
			for _, s := range r.Syscalls {
				for _, sh := range s.Shapes {
					var args [6]uint64
					for k, arg := range s.Args {
						args[arg.Index] = uint64(sh.Values[k])
						if arg.Mask == 0xffffffff && rng.IntN(2) == 0 {
							args[arg.Index] |= 0xffffffff_00000000
						}
					}
					if v := p.Verdict(s.Name, args); v != learn.Allow {
						t.Fatalf("case %d (%+v): recorded %s%#x denied (%s); rules %v", i, opts, s.Name, args, v, p.Lookup(s.Name).Rules)
					}
				}
			}
		}
		// A prot bit no recorded value of mmap set is denied.
		if s := m.Lookup("mmap"); s != nil && len(p.Lookup("mmap").Rules) > 0 {
			var union uint64
			for _, sh := range s.Shapes {
				union |= uint64(sh.Values[0])
			}
			for bit := range 32 {
				if union&(1<<bit) != 0 {
					continue
				}
				if v := p.Verdict("mmap", [6]uint64{2: 1 << bit}); v == learn.Allow {
					t.Fatalf("case %d: mmap prot bit %d never recorded but allowed; rules %v", i, bit, p.Lookup("mmap").Rules)
				}
			}
		}
	}
}
