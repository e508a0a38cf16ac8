package learn

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/profgen/profgen/argspec"
	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/recording"
)

// RulesText renders the rules of syscall on arch as a person reads them,
// with the names of argspec.Table: "request ∈ {TCGETS, TIOCGWINSZ}",
// "prot ⊆ PROT_READ|PROT_WRITE", "domain = AF_INET, type = SOCK_STREAM";
// rules that differ in one enum argument only are shown as one, with the
// set of its values, and rules are joined by " || ". A value without a
// name stays hex, and a condition that argspec does not describe (an
// argument not captured, a comparison profgen does not learn) is shown as
// Rule.String shows it. No rules is "any".
func RulesText(arch abi.Arch, syscall string, rules []Rule) string {
	if len(rules) == 0 {
		return "any"
	}
	conds := make([][6]cond, len(rules))
	for i, r := range rules {
		conds[i] = ruleConds(arch, syscall, r)
	}
	conds = mergeConds(conds)
	parts := make([]string, len(conds))
	for i, c := range conds {
		parts[i] = condsText(arch, syscall, c)
	}
	return strings.Join(parts, " || ")
}

// RuleText renders one rule as RulesText does.
func RuleText(arch abi.Arch, syscall string, r Rule) string {
	return RulesText(arch, syscall, []Rule{r})
}

// ArgText renders the value v of argument index of syscall on arch: its
// name ("FIONBIO", "O_RDONLY|O_CLOEXEC") or, for an argument argspec does
// not describe or a value without a name, hex.
func ArgText(arch abi.Arch, syscall string, index int, v uint64) string {
	if a := argspec.Lookup(syscall, index); a != nil {
		return a.Value(arch, v)
	}
	return fmt.Sprintf("%#x", v)
}

// cond is one argument's condition in RulesText: a set of an enum's
// values (compared under the argument's mask, as learn writes them), or
// the text of any other condition ("" for none).
type cond struct {
	set  map[uint64]bool
	text string
}

func (c cond) equal(d cond) bool {
	return c.text == d.text && maps.Equal(c.set, d.set)
}

func ruleConds(arch abi.Arch, syscall string, r Rule) [6]cond {
	var out [6]cond
	for i, m := range r {
		if m == nil {
			continue
		}
		a := argspec.Lookup(syscall, i)
		if a == nil {
			out[i].text = fmt.Sprintf("arg%d %s", i, m)
			continue
		}
		out[i] = argCond(arch, a, m)
	}
	return out
}

// argCond is the condition m on the described argument a.
func argCond(arch abi.Arch, a *argspec.Arg, m Matcher) cond {
	switch m := m.(type) {
	case MaskedEqual:
		if a.Kind != recording.KindFlags && m.Mask == a.Mask {
			return cond{set: map[uint64]bool{m.Value: true}}
		}
		if a.Kind == recording.KindFlags && m.Value == 0 && m.Mask&^a.Mask == 0 {
			return cond{text: fmt.Sprintf("%s ⊆ %s", a.Name, a.Bits(arch, a.Mask&^m.Mask))}
		}
		return cond{text: fmt.Sprintf("%s & %#x == %s", a.Name, m.Mask, a.Value(arch, m.Value))}
	case Equal:
		return cond{text: fmt.Sprintf("%s == %s", a.Name, a.Value(arch, m.Value))}
	case NotEqual:
		return cond{text: fmt.Sprintf("%s != %s", a.Name, a.Value(arch, m.Value))}
	}
	return cond{text: fmt.Sprintf("%s %s", a.Name, m)}
}

// mergeConds unites rules that differ only in one argument's set of
// values, until no two do.
func mergeConds(rules [][6]cond) [][6]cond {
	for merged := true; merged; {
		merged = false
		for i := 0; i < len(rules) && !merged; i++ {
			for j := i + 1; j < len(rules) && !merged; j++ {
				diff := -1
				for k := range rules[i] {
					if !rules[i][k].equal(rules[j][k]) {
						if diff >= 0 {
							diff = -2
							break
						}
						diff = k
					}
				}
				if diff < 0 || rules[i][diff].set == nil || rules[j][diff].set == nil {
					continue
				}
				u := maps.Clone(rules[i][diff].set)
				maps.Copy(u, rules[j][diff].set)
				rules[i][diff] = cond{set: u}
				rules = slices.Delete(rules, j, j+1)
				merged = true
			}
		}
	}
	return rules
}

func condsText(arch abi.Arch, syscall string, c [6]cond) string {
	var parts []string
	for i, x := range c {
		switch {
		case x.set != nil:
			a := argspec.Lookup(syscall, i)
			vs := slices.Sorted(maps.Keys(x.set))
			if len(vs) == 1 {
				parts = append(parts, fmt.Sprintf("%s = %s", a.Name, a.Value(arch, vs[0])))
				continue
			}
			names := make([]string, len(vs))
			for k, v := range vs {
				names[k] = a.Value(arch, v)
			}
			parts = append(parts, fmt.Sprintf("%s ∈ {%s}", a.Name, strings.Join(names, ", ")))
		case x.text != "":
			parts = append(parts, x.text)
		}
	}
	if len(parts) == 0 {
		return "any"
	}
	return strings.Join(parts, ", ")
}
