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
// "prot ⊆ PROT_READ|PROT_WRITE", "domain = AF_INET, type & ~(SOCK_NONBLOCK|SOCK_CLOEXEC) = SOCK_STREAM";
// rules that differ in one enum argument only are shown as one, with the
// set of its values, and rules are joined by " || ". The text says no more
// and no less than the rule: an enum compared under a mask that leaves
// flags free says so, and an argument named by another one's value
// (setsockopt's optname by level) is named only where the rule pins that
// value. A value without a name stays hex, and a condition that argspec
// does not describe (an argument not captured, a comparison profgen does
// not learn) is shown as Rule.String shows it. No rules is "any".
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
// not describe, a value without a name or one named by another argument's
// value (use CallText), hex.
func ArgText(arch abi.Arch, syscall string, index int, v uint64) string {
	if a := argspec.Lookup(syscall, index); a != nil {
		return a.Value(arch, v)
	}
	return fmt.Sprintf("%#x", v)
}

// CallArgText renders argument index of a call of syscall with args, as
// ArgText does, naming an argument named by another one's value
// (setsockopt's optname) with that value.
func CallArgText(arch abi.Arch, syscall string, index int, args [6]uint64) string {
	a := argspec.Lookup(syscall, index)
	switch {
	case a == nil:
		return fmt.Sprintf("%#x", args[index])
	case a.By != nil:
		return a.ValueBy(arch, args[index], args[a.By.Index])
	}
	return a.Value(arch, args[index])
}

// CallText renders a call of syscall whose captured arguments (those
// argspec describes) are args, the others unknown: its captured arguments
// named as CallArgText names them, an unknown one before them as "_", and
// the unknown ones after them as "...": "socket(AF_NETLINK,
// SOCK_RAW|SOCK_CLOEXEC, IPPROTO_IP, ...)", "setsockopt(_, SOL_SOCKET,
// SO_REUSEADDR, ...)".
func CallText(arch abi.Arch, syscall string, args [6]uint64) string {
	last := -1
	for i := range args {
		if argspec.Lookup(syscall, i) != nil {
			last = i
		}
	}
	parts := make([]string, 0, last+2)
	for i := 0; i <= last; i++ {
		if argspec.Lookup(syscall, i) == nil {
			parts = append(parts, "_")
			continue
		}
		parts = append(parts, CallArgText(arch, syscall, i, args))
	}
	if last < len(args)-1 {
		parts = append(parts, "...")
	}
	return syscall + "(" + strings.Join(parts, ", ") + ")"
}

// cond is one argument's condition in RulesText: a set of an enum's
// values (compared under the argument's mask, as learn writes them), each
// with its text, or the text of any other condition ("" for none).
type cond struct {
	set  map[uint64]string
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
		out[i] = argCond(arch, a, m, valueText(arch, syscall, a, r))
	}
	return out
}

// valueText returns how the values of a are named in rule r: by
// argspec's names, or for an argument named by another one's value, by
// that value where r pins it (hex where it does not).
func valueText(arch abi.Arch, syscall string, a *argspec.Arg, r Rule) func(uint64) string {
	if a.By == nil {
		return func(v uint64) string { return a.Value(arch, v) }
	}
	if by, ok := pinned(argspec.Lookup(syscall, a.By.Index), r[a.By.Index]); ok {
		return func(v uint64) string { return a.ValueBy(arch, v, by) }
	}
	return func(v uint64) string { return fmt.Sprintf("%#x", v) }
}

// pinned returns the one value (under its mask) that m lets argument a
// have, if it lets it have one only.
func pinned(a *argspec.Arg, m Matcher) (uint64, bool) {
	if a == nil {
		return 0, false
	}
	switch m := m.(type) {
	case Equal:
		return m.Value, true
	case MaskedEqual:
		if m.Mask&a.Mask == a.Mask {
			return m.Value, true
		}
	}
	return 0, false
}

// width is the bits of an argument that the kernel reads: an int's low
// half, or all 64.
func width(a *argspec.Arg) uint64 {
	if a.Mask>>32 != 0 {
		return ^uint64(0)
	}
	return 0xffffffff
}

// argCond is the condition m on the described argument a, whose values
// name names.
func argCond(arch abi.Arch, a *argspec.Arg, m Matcher, name func(uint64) string) cond {
	switch m := m.(type) {
	case MaskedEqual:
		if a.Kind != recording.KindFlags && m.Mask == a.Mask {
			return cond{set: map[uint64]string{m.Value: name(m.Value)}}
		}
		if a.Kind == recording.KindFlags && m.Value == 0 && m.Mask&^a.Mask == 0 && m.Mask&width(a) == m.Mask {
			return cond{text: fmt.Sprintf("%s ⊆ %s", a.Name, a.Bits(arch, width(a)&^m.Mask))}
		}
		if m.Value == 0 {
			return cond{text: fmt.Sprintf("%s & %#x == 0", a.Name, m.Mask)}
		}
		return cond{text: fmt.Sprintf("%s & %#x == %s", a.Name, m.Mask, exact(a, m.Value, name))}
	case Equal:
		return cond{text: fmt.Sprintf("%s == %s", a.Name, exact(a, m.Value, name))}
	case NotEqual:
		return cond{text: fmt.Sprintf("%s != %s", a.Name, exact(a, m.Value, name))}
	}
	return cond{text: fmt.Sprintf("%s %s", a.Name, m)}
}

// exact names v where its name means v in all the bits a comparison of
// the whole register reads: hex for a value with bits above an int's
// width, which a name would hide.
func exact(a *argspec.Arg, v uint64, name func(uint64) string) string {
	if v&^width(a) != 0 {
		return fmt.Sprintf("%#x", v)
	}
	return name(v)
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
			// An enum compared under a mask that leaves flags free
			// (socket's type) says so.
			lhs := a.Name
			if free := a.Free(arch); free != "" {
				lhs = fmt.Sprintf("%s & ~(%s)", a.Name, free)
			}
			vs := slices.Sorted(maps.Keys(x.set))
			if len(vs) == 1 {
				parts = append(parts, fmt.Sprintf("%s = %s", lhs, x.set[vs[0]]))
				continue
			}
			names := make([]string, len(vs))
			for k, v := range vs {
				names[k] = x.set[v]
			}
			parts = append(parts, fmt.Sprintf("%s ∈ {%s}", lhs, strings.Join(names, ", ")))
		case x.text != "":
			parts = append(parts, x.text)
		}
	}
	if len(parts) == 0 {
		return "any"
	}
	return strings.Join(parts, ", ")
}
