package learn

import (
	"fmt"
	"strings"
)

// Rule is a conjunction of conditions, one optional Matcher per syscall
// argument index; a nil entry matches any value. The zero Rule matches
// every call.
type Rule [6]Matcher

// Matches reports whether args satisfy every matcher of r.
func (r Rule) Matches(args [6]uint64) bool {
	for i, m := range r {
		if m != nil && !m.Matches(args[i]) {
			return false
		}
	}
	return true
}

// Unconditional reports whether r has no matcher at all.
func (r Rule) Unconditional() bool {
	for _, m := range r {
		if m != nil {
			return false
		}
	}
	return true
}

// String renders r as "arg0 == 0x2 && arg1 & 0xfff7f7ff == 0x1".
func (r Rule) String() string {
	var parts []string
	for i, m := range r {
		if m != nil {
			parts = append(parts, fmt.Sprintf("arg%d %s", i, m))
		}
	}
	if len(parts) == 0 {
		return "any"
	}
	return strings.Join(parts, " && ")
}

// Check returns an error naming the first argument of r whose condition no
// value satisfies (see CheckMatcher); such a rule never matches.
func (r Rule) Check() error {
	for i, m := range r {
		if m == nil {
			continue
		}
		if err := CheckMatcher(m); err != nil {
			return fmt.Errorf("arg%d %w", i, err)
		}
	}
	return nil
}
