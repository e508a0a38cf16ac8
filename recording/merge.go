package recording

import (
	"errors"
	"fmt"
	"slices"
)

// Merge returns the union of recs: every syscall and argument shape any of
// them saw, with counts added and Seen telling how many inputs saw each.
// Recordings of different architectures, or that captured a syscall's
// arguments differently, are refused rather than merged silently.
// The inputs are not modified.
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
	byName := map[string]*Syscall{}
	for i, r := range recs {
		if r.Arch != first.Arch {
			return nil, fmt.Errorf("merge: input %d is for architecture %s, input 1 for %s", i+1, r.Arch, first.Arch)
		}
		out.Inputs += r.Inputs
		out.Lost += r.Lost
		out.Interrupted = out.Interrupted || r.Interrupted
		out.ArgShapes = out.ArgShapes && r.ArgShapes
		if r.Start.Before(out.Start) {
			out.Start = r.Start
		}
		if r.End.After(out.End) {
			out.End = r.End
		}
		if r.Backend != out.Backend {
			out.Backend = BackendMixed
		}
		if r.Scope != out.Scope {
			out.Scope = ScopeMixed
		}
		if r.Kernel != out.Kernel {
			out.Kernel = "mixed"
		}
		if r.Base != out.Base {
			out.Base = "mixed"
		}
		for _, n := range r.Notes {
			if !slices.Contains(out.Notes, n) {
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
				m = &c
				m.Count, m.Seen = 0, 0
				byName[s.Name] = m
			}
			if err := m.add(&s); err != nil {
				return nil, fmt.Errorf("merge: input %d: %w", i+1, err)
			}
		}
	}
	for _, s := range byName {
		if !out.ArgShapes {
			// Some input captured no argument values: what it saw
			// of every syscall is unknown, so nothing is pinned. Doing
			// this for all syscalls, not only that input's, keeps
			// Merge associative.
			s.Unpinned, s.Args, s.Shapes = true, nil, nil
		}
		out.Syscalls = append(out.Syscalls, *s)
	}
	slices.Sort(out.Notes) // the same whatever the order of the inputs
	out.Normalize()
	return out, nil
}

// add folds s into m.
func (m *Syscall) add(s *Syscall) error {
	m.Count += s.Count
	m.Seen += s.Seen
	if m.Unpinned || s.Unpinned {
		m.Unpinned, m.Args, m.Shapes = true, nil, nil
		return nil
	}
	switch {
	case len(s.Args) == 0 && len(m.Args) == 0:
		// Arguments captured by no input so far.
	case len(s.Args) == 0 || len(m.Args) == 0:
		// One side captured this syscall's arguments, the other saw
		// it without them (an older argument table): the calls of the
		// other side may have had any arguments.
		m.Unpinned, m.Args, m.Shapes = true, nil, nil
		return nil
	case !slices.EqualFunc(m.Args, s.Args, func(a, b Arg) bool {
		return a.Index == b.Index && a.Kind == b.Kind && a.Mask == b.Mask && slices.Equal(a.Exclusive, b.Exclusive)
	}):
		return fmt.Errorf("%s: argument capture differs between recordings", s.Name)
	}
	for _, sh := range s.Shapes {
		found := false
		for k := range m.Shapes {
			if sameValues(m.Shapes[k].Values, sh.Values) {
				m.Shapes[k].Count += sh.Count
				m.Shapes[k].Seen += sh.Seen
				found = true
				break
			}
		}
		if !found {
			m.Shapes = append(m.Shapes, Shape{Values: slices.Clone(sh.Values), Count: sh.Count, Seen: sh.Seen})
		}
	}
	return nil
}
