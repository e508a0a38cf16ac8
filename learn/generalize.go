package learn

import (
	"fmt"
	"math/bits"
	"slices"
	"sort"

	"github.com/profgen/profgen/recording"
)

// maxRulesPerSyscall bounds the rules learned for one syscall. Past it, the
// enum argument with the most distinct values is unpinned until the rules
// fit: a filter has at most 4096 instructions.
const maxRulesPerSyscall = 64

// generalize turns the shapes recorded for s into rules:
//   - an enum argument is pinned to each value seen, one rule per distinct
//     combination of enum values;
//   - a flags argument allows the union of the bits seen with those enum
//     values (MASKED_EQ of the other bits against 0), except that bits
//     listed as exclusive (PROT_WRITE|PROT_EXEC) are allowed together
//     only if a value holding them all was seen;
//   - an enum argument with more than maxValues distinct values is not
//     pinned (a flags argument becomes one mask however many values it
//     took, so it is always pinned).
//
// Values are compared under the argument's capture mask, so a 32-bit int
// argument matches whatever its upper half holds.
func generalize(s *recording.Syscall, maxValues int) ([]Rule, []string) {
	var notes []string
	pinned := make([]bool, len(s.Args))
	for i, a := range s.Args {
		pinned[i] = true
		if n := distinct(s.Shapes, i); a.Kind == recording.KindEnum && n > maxValues {
			pinned[i] = false
			notes = append(notes, fmt.Sprintf("%s (arg %d) not pinned: %d distinct values, more than %d", a.Name, a.Index, n, maxValues))
		}
	}
	for {
		rules := buildRules(s, pinned)
		if len(rules) <= maxRulesPerSyscall {
			return normalizeRules(rules), notes
		}
		// Unpin the enum argument with the most distinct values.
		worst, most := -1, 0
		for i, a := range s.Args {
			if pinned[i] && a.Kind == recording.KindEnum {
				if n := distinct(s.Shapes, i); n > most {
					worst, most = i, n
				}
			}
		}
		if worst < 0 {
			return normalizeRules(rules), notes
		}
		pinned[worst] = false
		a := s.Args[worst]
		notes = append(notes, fmt.Sprintf("%s (arg %d) not pinned: the combinations need more than %d rules", a.Name, a.Index, maxRulesPerSyscall))
	}
}

func distinct(shapes []recording.Shape, i int) int {
	seen := map[recording.Hex]bool{}
	for _, sh := range shapes {
		seen[sh.Values[i]] = true
	}
	return len(seen)
}

func buildRules(s *recording.Syscall, pinned []bool) []Rule {
	// Group shapes by their pinned enum values; within a group, collect
	// the flags values seen.
	type group struct {
		enum  []recording.Hex
		flags [][]uint64 // per arg, values seen
	}
	groups := map[string]*group{}
	var order []string
	for _, sh := range s.Shapes {
		var key []recording.Hex
		for i, a := range s.Args {
			if pinned[i] && a.Kind == recording.KindEnum {
				key = append(key, sh.Values[i])
			}
		}
		k := fmt.Sprint(key)
		g, ok := groups[k]
		if !ok {
			g = &group{enum: key, flags: make([][]uint64, len(s.Args))}
			groups[k] = g
			order = append(order, k)
		}
		for i, a := range s.Args {
			if pinned[i] && a.Kind == recording.KindFlags {
				g.flags[i] = append(g.flags[i], uint64(sh.Values[i]))
			}
		}
	}
	sort.Strings(order)
	var rules []Rule
	for _, k := range order {
		g := groups[k]
		base := Rule{}
		e := 0
		for i, a := range s.Args {
			if pinned[i] && a.Kind == recording.KindEnum {
				base[a.Index] = enumMatcher(uint64(a.Mask), uint64(g.enum[e]))
				e++
			}
		}
		rs := []Rule{base}
		for i, a := range s.Args {
			if !pinned[i] || a.Kind != recording.KindFlags {
				continue
			}
			var next []Rule
			for _, m := range flagMatchers(a, g.flags[i]) {
				for _, r := range rs {
					r[a.Index] = m
					next = append(next, r)
				}
			}
			rs = next
		}
		rules = append(rules, rs...)
	}
	return rules
}

// enumMatcher pins an argument captured under mask to v.
func enumMatcher(mask, v uint64) Matcher {
	if mask == ^uint64(0) {
		return Equal{Value: v}
	}
	return MaskedEqual{Mask: mask, Value: v & mask}
}

// flagMatchers returns the alternatives (OR) that allow the bits of seen
// and deny every other bit under the argument's mask. A nil matcher in the
// result means any value is allowed.
func flagMatchers(a recording.Arg, seen []uint64) []Matcher {
	mask := uint64(a.Mask)
	var union uint64
	for _, v := range seen {
		union |= v & mask
	}
	allowed := []uint64{union}
	for _, ex := range a.Exclusive {
		x := uint64(ex) & mask
		if union&x != x || bits.OnesCount64(x) < 2 {
			continue // the bits cannot all be set together anyway
		}
		if slices.ContainsFunc(seen, func(v uint64) bool { return v&x == x }) {
			continue // observed together: allowed together
		}
		// Split every alternative into one per exclusive bit left out.
		var next []uint64
		for _, al := range allowed {
			for b := x; b != 0; b &= b - 1 {
				next = append(next, al&^(b&-b))
			}
		}
		allowed = next
	}
	var ms []Matcher
	for _, al := range allowed {
		if deny := mask &^ al; deny != 0 {
			ms = append(ms, MaskedEqual{Mask: deny, Value: 0})
		} else {
			ms = append(ms, nil)
		}
	}
	return ms
}
