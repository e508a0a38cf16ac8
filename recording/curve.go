package recording

import "slices"

// Step is what one input of a merge added to the inputs before it: a point
// of the coverage curve (Curve).
type Step struct {
	// Input is the input's number, 1-based, in merge order.
	Input int `json:"input"`
	// Runs is how many runs the input holds (its Inputs: more than 1 for
	// an input that is itself a merge).
	Runs int `json:"runs"`
	// NewSyscalls are the syscalls no earlier input made, sorted.
	NewSyscalls []string `json:"newSyscalls"`
	// NewShapes are the argument shapes no earlier input saw, by syscall
	// and then values. A syscall new with this input brings its shapes
	// along: they are listed here too.
	NewShapes []NewShape `json:"newShapes"`
	// Syscalls and Shapes count the syscalls and shapes of the inputs up
	// to and including this one.
	Syscalls int `json:"syscalls"`
	Shapes   int `json:"shapes"`
}

// NewShape is an argument shape a Step added: its syscall, the syscall's
// captured arguments and the shape's values (in the order of Args).
type NewShape struct {
	Syscall string `json:"syscall"`
	Args    []Arg  `json:"args"`
	Values  []Hex  `json:"values"`
}

// Added reports whether the step added anything.
func (s *Step) Added() bool { return len(s.NewSyscalls) > 0 || len(s.NewShapes) > 0 }

// Curve returns the coverage curve of recs, in the order given: for each
// input, the syscalls and argument shapes none of the inputs before it
// made. Inputs are not validated (Merge does that): a shape is told apart
// by its syscall and values, whatever the arguments captured.
func Curve(recs ...*Recording) []Step {
	seen := map[string]map[valuesKey]bool{} // syscall -> its shapes seen so far
	shapes := 0
	steps := make([]Step, 0, len(recs))
	for i, r := range recs {
		st := Step{Input: i + 1, Runs: r.Inputs, NewSyscalls: []string{}, NewShapes: []NewShape{}}
		for _, s := range r.Syscalls {
			known, ok := seen[s.Name]
			if !ok {
				known = map[valuesKey]bool{}
				seen[s.Name] = known
				st.NewSyscalls = append(st.NewSyscalls, s.Name)
			}
			for _, sh := range s.Shapes {
				k := keyOf(sh.Values)
				if known[k] {
					continue
				}
				known[k] = true
				shapes++
				st.NewShapes = append(st.NewShapes, NewShape{Syscall: s.Name, Args: slices.Clone(s.Args), Values: slices.Clone(sh.Values)})
			}
		}
		slices.Sort(st.NewSyscalls)
		slices.SortStableFunc(st.NewShapes, func(a, b NewShape) int {
			if a.Syscall != b.Syscall {
				if a.Syscall < b.Syscall {
					return -1
				}
				return 1
			}
			return slices.Compare(a.Values, b.Values)
		})
		st.Syscalls, st.Shapes = len(seen), shapes
		steps = append(steps, st)
	}
	return steps
}

// Unsaturated returns the steps among the last n of curve that added
// something: none when learning had saturated over those inputs.
func Unsaturated(curve []Step, n int) []Step {
	var out []Step
	for _, st := range curve[max(len(curve)-n, 0):] {
		if st.Added() {
			out = append(out, st)
		}
	}
	return out
}
