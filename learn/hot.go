package learn

import (
	"cmp"
	"math"
	"slices"
)

// Counts returns the recorded call counts of p's syscalls by name
// (Syscall.Calls), nil when p has none (a profile read from a file).
func (p *Profile) Counts() map[string]uint64 {
	var counts map[string]uint64
	for _, s := range p.Syscalls {
		if s.Calls > 0 {
			if counts == nil {
				counts = map[string]uint64{}
			}
			counts[s.Name] = s.Calls
		}
	}
	return counts
}

// HotOrder returns the names of p's syscalls whose action is not the
// default action, in the order a filter had best test them for a workload
// that makes counts calls of each (by name): the syscalls with argument
// rules first, hottest first, then those allowed by name, hottest first;
// ties by name. On a kernel with the constant-action cache (Linux 5.11+)
// only the argument-checked syscalls run the filter, so their position is
// what costs. Filter compilers give this order to libseccomp as syscall
// priorities, 255 for the first name, one less for each next, and 0 from
// the 256th on (HotPriority).
func HotOrder(p *Profile, counts map[string]uint64) []string {
	type hot struct {
		name  string
		rules bool
		count uint64
	}
	var order []hot
	for _, s := range p.Syscalls {
		if s.Action == p.DefaultAction {
			continue
		}
		order = append(order, hot{s.Name, len(s.Rules) > 0, counts[s.Name]})
	}
	slices.SortStableFunc(order, func(a, b hot) int {
		if a.rules != b.rules {
			if a.rules {
				return -1
			}
			return 1
		}
		if c := cmp.Compare(b.count, a.count); c != 0 {
			return c
		}
		return cmp.Compare(a.name, b.name)
	})
	names := make([]string, len(order))
	for i, h := range order {
		names[i] = h.name
	}
	return names
}

// HotPriority is the libseccomp syscall priority of the i-th name (from
// 0) of HotOrder: 255 for the first, one less for each next, 0 from the
// 256th on.
func HotPriority(i int) uint8 {
	if i < 0 || i >= 255 {
		return 0
	}
	return uint8(255 - i)
}

// addCalls adds call counts, stopping at the largest uint64 rather than
// wrapping.
func addCalls(a, b uint64) uint64 {
	if a > math.MaxUint64-b {
		return math.MaxUint64
	}
	return a + b
}
