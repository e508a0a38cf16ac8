package recording

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"time"
)

// Merge returns the union of recs: every syscall and argument shape any of
// them saw, with counts added and Seen telling how many inputs saw each.
// Recordings of different architectures, or that captured a syscall's
// arguments differently, are refused rather than merged silently.
//
// Every input is validated first, and so is the result, with Validate, the
// check Parse applies: Merge never returns a recording profgen would not
// read back. Sums saturate instead of wrapping: Count, Lost and a shape's
// Count stop at 2^64-1, Inputs and Seen at the largest int. Saturated sums
// stay associative and commutative, and Seen never exceeds Inputs.
//
// Merge takes O(n log n) time for n shapes in all. The inputs are not
// modified.
func Merge(recs ...*Recording) (*Recording, error) {
	if len(recs) == 0 {
		return nil, errors.New("merge: no recordings")
	}
	first := recs[0]
	out := &Recording{
		Version:   Version,
		Tool:      first.Tool,
		Kernel:    first.Kernel,
		Arch:      first.Arch,
		Backend:   first.Backend,
		Scope:     first.Scope,
		Command:   slices.Clone(first.Command),
		Start:     first.Start,
		End:       first.End,
		Exit:      first.Exit,
		Base:      first.Base,
		ArgShapes: true,
	}
	byName := map[string]*merging{}
	var names []string
	notes := map[string]bool{}
	offset := 0 // the inputs of the recordings before r
	for i, r := range recs {
		if r.Arch != first.Arch {
			return nil, fmt.Errorf("merge: input %d is for architecture %s, input 1 for %s", i+1, r.Arch, first.Arch)
		}
		if err := r.Validate(); err != nil {
			return nil, fmt.Errorf("merge: input %d: %w", i+1, err)
		}
		out.Inputs = addInt(out.Inputs, r.Inputs)
		out.Lost = addCount(out.Lost, r.Lost)
		out.Interrupted = out.Interrupted || r.Interrupted
		out.ArgShapes = out.ArgShapes && r.ArgShapes
		if earlier(r.Start, out.Start) {
			out.Start = r.Start
		}
		if earlier(out.End, r.End) {
			out.End = r.End
		}
		if r.Backend != out.Backend {
			out.Backend = BackendMixed
		}
		if r.Scope != out.Scope {
			out.Scope = ScopeMixed
		}
		if r.Kernel != out.Kernel {
			out.Kernel = Mixed
		}
		if r.Base != out.Base {
			out.Base = Mixed
		}
		for _, n := range r.Notes {
			if !notes[n] {
				notes[n] = true
				out.Notes = append(out.Notes, n)
			}
		}
		for _, s := range r.Syscalls {
			if !r.ArgShapes {
				s.Unpinned = true
			}
			m, ok := byName[s.Name]
			if !ok {
				c := s
				c.Args = slices.Clone(s.Args)
				c.Shapes = nil
				c.Count, c.Seen = 0, 0
				c.Evidence = Evidence{}
				m = &merging{Syscall: c, index: map[valuesKey]int{}}
				byName[s.Name] = m
				names = append(names, s.Name)
			}
			if err := m.add(&s, offset+1); err != nil {
				return nil, fmt.Errorf("merge: input %d: %w", i+1, err)
			}
		}
		offset = addInt(offset, r.Inputs)
	}
	if len(recs) == 1 && recs[0].ReadyAtMs != nil {
		v := *recs[0].ReadyAtMs
		out.ReadyAtMs = &v
	}
	if len(recs) == 1 && recs[0].StoppedAtMs != nil {
		v := *recs[0].StoppedAtMs
		out.StoppedAtMs = &v
	}
	out.Syscalls = make([]Syscall, 0, len(names))
	for _, name := range names {
		s := &byName[name].Syscall
		if !out.ArgShapes {
			// Some input captured no argument values: what it saw
			// of every syscall is unknown, so nothing is pinned. Doing
			// this for all syscalls, not only that input's, keeps
			// Merge associative.
			s.Unpinned, s.Args, s.Shapes = true, nil, nil
		}
		if out.Inputs == 1 {
			// One run: its first-seen times need no input to say
			// which run they are from.
			s.FirstInput = 0
			for k := range s.Shapes {
				s.Shapes[k].FirstInput = 0
			}
		}
		out.Syscalls = append(out.Syscalls, *s)
	}
	out.EngineProfile = mergeEngine(recs)
	out.Workload = mergeWorkload(recs)
	sections, err := mergeSections(recs)
	if err != nil {
		return nil, err
	}
	out.Sections = sections
	slices.Sort(out.Notes) // the same whatever the order of the inputs
	out.Normalize()
	if err := out.Validate(); err != nil {
		return nil, fmt.Errorf("merge: result: %w", err)
	}
	return out, nil
}

// earlier reports whether a is before b, or the same instant written with
// a lesser text (another time zone): a total order, so that the earliest
// start and latest end do not depend on the order of the inputs.
func earlier(a, b time.Time) bool {
	if !a.Equal(b) {
		return a.Before(b)
	}
	return a.Format(time.RFC3339Nano) < b.Format(time.RFC3339Nano)
}

// merging is a syscall being merged, with its shapes indexed by value.
type merging struct {
	Syscall
	index map[valuesKey]int // index in Shapes
}

// add folds s, of the recording whose first input is number input, into m.
func (m *merging) add(s *Syscall, input int) error {
	m.Count = addCount(m.Count, s.Count)
	m.Seen = addInt(m.Seen, s.Seen)
	m.mergeEvidence(&s.Evidence, input)
	if m.Unpinned || s.Unpinned {
		m.unpin()
		return nil
	}
	switch {
	case len(s.Args) == 0 && len(m.Args) == 0:
		// Arguments captured by no input so far.
	case len(s.Args) == 0 || len(m.Args) == 0:
		// One side captured this syscall's arguments, the other saw
		// it without them (an older argument table): the calls of the
		// other side may have had any arguments.
		m.unpin()
		return nil
	case !slices.EqualFunc(m.Args, s.Args, func(a, b Arg) bool {
		return a.Index == b.Index && a.Kind == b.Kind && a.Mask == b.Mask && slices.Equal(a.Exclusive, b.Exclusive)
	}):
		return fmt.Errorf("%s: argument capture differs between recordings", s.Name)
	}
	for k := range s.Args {
		// A name is descriptive (profgen versions may spell it
		// differently): the least one, whatever the order of inputs.
		if s.Args[k].Name < m.Args[k].Name {
			m.Args[k].Name = s.Args[k].Name
		}
	}
	for _, sh := range s.Shapes {
		key := keyOf(sh.Values)
		if k, ok := m.index[key]; ok {
			m.Shapes[k].Count = addCount(m.Shapes[k].Count, sh.Count)
			m.Shapes[k].Seen = addInt(m.Shapes[k].Seen, sh.Seen)
			m.Shapes[k].mergeEvidence(&sh.Evidence, input)
			continue
		}
		m.index[key] = len(m.Shapes)
		n := Shape{Values: slices.Clone(sh.Values), Count: sh.Count, Seen: sh.Seen}
		n.mergeEvidence(&sh.Evidence, input)
		m.Shapes = append(m.Shapes, n)
	}
	return nil
}

func (m *merging) unpin() {
	m.Unpinned, m.Args, m.Shapes = true, nil, nil
	clear(m.index)
}

// valuesKey is a shape's values as a map key: equal keys are equal values.
// Validate ensures at most 6 (one per argument index).
type valuesKey struct {
	n int
	v [6]Hex
}

func keyOf(values []Hex) valuesKey {
	k := valuesKey{n: len(values)}
	copy(k.v[:], values)
	return k
}

// addCount returns a+b, or 2^64-1 if that overflows.
func addCount(a, b uint64) uint64 {
	s, carry := bits.Add64(a, b, 0)
	if carry != 0 {
		return math.MaxUint64
	}
	return s
}

// addInt returns a+b (a, b >= 0: Validate ensures it), or the largest
// int if that overflows.
func addInt(a, b int) int {
	if b > 0 && a > math.MaxInt-b {
		return math.MaxInt
	}
	return a + b
}
