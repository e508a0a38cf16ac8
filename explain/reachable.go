package explain

import (
	"fmt"
	"slices"
	"strings"
)

// Reachability says which of a profile's allowed syscalls a program's code
// can make (profgen explain --reachable, from profgen reachable's analysis).
type Reachability struct {
	// Programs are the executables analysed.
	Programs []string `json:"programs"`
	// Reachable are the allowed and conditional syscalls the code can make.
	Reachable []string `json:"reachable"`
	// NotReachable are those it cannot: a runtime's or the baseline's
	// calls, calls of code not analysed (dlopen), gaps of the analysis.
	NotReachable []string `json:"notReachable"`
	// KernelMade are those the kernel makes itself (restart_syscall).
	KernelMade []string `json:"kernelMade,omitempty"`
}

// MarkReachable fills r.Reachable: each syscall r allows, whatever the
// arguments or on some, is reachable when reach says so, made by the
// kernel when kernel does, not reachable otherwise.
func (r *Report) MarkReachable(programs []string, reach func(string) bool, kernel func(string) string) {
	m := &Reachability{Programs: programs, Reachable: []string{}, NotReachable: []string{}}
	names := slices.Clone(r.Allowed)
	for _, c := range r.Conditional {
		names = append(names, c.Name)
	}
	slices.Sort(names)
	for _, n := range slices.Compact(names) {
		switch {
		case reach(n):
			m.Reachable = append(m.Reachable, n)
		case kernel(n) != "":
			m.KernelMade = append(m.KernelMade, n)
		default:
			m.NotReachable = append(m.NotReachable, n)
		}
	}
	r.Reachable = m
}

// writeReachable writes r.Reachable's section of the text report.
func writeReachable(b *strings.Builder, r *Report) {
	m := r.Reachable
	if m == nil {
		return
	}
	fmt.Fprintf(b, "statically reachable (profgen reachable: %s):\n", strings.Join(m.Programs, ", "))
	fmt.Fprintf(b, "  allowed and reachable (%d)\n", len(m.Reachable))
	fmt.Fprintf(b, "  allowed, not reachable by the program's code (%d):\n", len(m.NotReachable))
	if len(m.NotReachable) > 0 {
		wrap(b, m.NotReachable)
	}
	if len(m.KernelMade) > 0 {
		fmt.Fprintf(b, "  allowed, made by the kernel itself (%d): %s\n", len(m.KernelMade), strings.Join(m.KernelMade, ", "))
	}
}
