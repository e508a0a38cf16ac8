package learn

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/profgen/profgen/internal/abi"
)

// Origin says why a syscall is in a profile (Syscall.Origin).
type Origin string

// Origins of a profile entry.
const (
	OriginRecorded Origin = "recorded"
	OriginBaseline Origin = "baseline"
	OriginRuntime  Origin = "runtime"
	OriginStub     Origin = "enosys-stub"
	OriginImported Origin = "imported"
)

// Profile is a seccomp allowlist for one architecture.
type Profile struct {
	Arch          abi.Arch
	DefaultAction Action
	// Syscalls is sorted by name, one entry per name.
	Syscalls []Syscall
	// Inputs is how many recordings the profile was learned from; each
	// Syscall's Seen is out of it.
	Inputs int
	// Notes say what learning decided that a reader should know.
	Notes []string
	// Incomplete says that the profile is marked as learned from
	// recordings that lost events (a profile file emitted with
	// --allow-incomplete): it may miss syscalls, so it gives no verdict.
	Incomplete bool
	// Command is the recorded target's command line (the first input's
	// that has one), for naming and commenting outputs; nil for a
	// profile read from a file. It is untrusted text.
	Command []string
}

// Syscall is the policy for one syscall: Action when any Rule matches (or
// always, when Rules is empty); the profile's default action otherwise.
type Syscall struct {
	Name   string
	Action Action
	Rules  []Rule
	// Seen is how many input recordings made this syscall (0 when it was
	// added for another reason).
	Seen int
	// Calls is how many calls of this syscall the input recordings
	// counted (0 when it was added for another reason or read from a
	// profile file). It orders a hot-first filter (HotOrder) and is not
	// part of the policy: no output format writes it as a rule.
	Calls uint64
	// Origin says why the syscall is in the profile; Reason adds detail.
	Origin Origin
	Reason string
	// Notes say, for example, that an argument was left unpinned.
	Notes []string
}

// Unconditional reports whether s applies whatever the arguments.
func (s *Syscall) Unconditional() bool {
	return len(s.Rules) == 0 || slices.ContainsFunc(s.Rules, Rule.Unconditional)
}

// Lookup returns the entry for name, or nil.
func (p *Profile) Lookup(name string) *Syscall {
	i := sort.Search(len(p.Syscalls), func(i int) bool { return p.Syscalls[i].Name >= name })
	if i < len(p.Syscalls) && p.Syscalls[i].Name == name {
		return &p.Syscalls[i]
	}
	return nil
}

// Verdict returns the action p takes for the named syscall with args.
func (p *Profile) Verdict(name string, args [6]uint64) Action {
	s := p.Lookup(name)
	if s == nil {
		return p.DefaultAction
	}
	if len(s.Rules) == 0 {
		return s.Action
	}
	for _, r := range s.Rules {
		if r.Matches(args) {
			return s.Action
		}
	}
	return p.DefaultAction
}

// Allowed returns the names of the syscalls p allows in at least some
// cases, sorted.
func (p *Profile) Allowed() []string {
	var names []string
	for _, s := range p.Syscalls {
		if s.Action.Kind == ActAllow || s.Action.Kind == ActLog {
			names = append(names, s.Name)
		}
	}
	return names
}

// Copy returns a deep copy of p.
func (p *Profile) Copy() *Profile {
	c := *p
	c.Notes = slices.Clone(p.Notes)
	c.Command = slices.Clone(p.Command)
	c.Syscalls = make([]Syscall, len(p.Syscalls))
	for i, s := range p.Syscalls {
		s.Rules = slices.Clone(s.Rules)
		s.Notes = slices.Clone(s.Notes)
		c.Syscalls[i] = s
	}
	return &c
}

// Add puts s into p, merging it with an entry of the same name: rules are
// united (an unconditional side makes the result unconditional), Seen
// counts add. Entries with different actions cannot be merged; the
// allowing one wins over an ENOSYS stub.
//
// Add sorts the entry's rules each time: to add many entries, use a
// Builder, which sorts them once.
func (p *Profile) Add(s Syscall) error {
	b := NewBuilder(p)
	err := b.Add(s)
	b.Done()
	return err
}

// Builder adds entries to a profile with the meaning of Profile.Add, but
// sorts each syscall's rules once, in Done, rather than on every addition:
// n rules in all take O(n log n), where as many calls of Add take
// O(n² log n). The profile's rules are in order only after Done.
type Builder struct {
	p *Profile
	// rules holds, for each syscall added to since the last Done, the
	// set of its rules: the entry's Rules hold each once, in the order
	// first added, and no unconditional rule.
	rules map[string]map[Rule]struct{}
}

// NewBuilder returns a Builder adding to p.
func NewBuilder(p *Profile) *Builder {
	return &Builder{p: p, rules: map[string]map[Rule]struct{}{}}
}

// Add puts s into the profile as Profile.Add does.
func (b *Builder) Add(s Syscall) error {
	p := b.p
	i, found := slices.BinarySearchFunc(p.Syscalls, s.Name, func(e Syscall, name string) int { return cmp.Compare(e.Name, name) })
	if !found {
		p.Syscalls = slices.Insert(p.Syscalls, i, s)
		b.reset(&p.Syscalls[i])
		return nil
	}
	cur := &p.Syscalls[i]
	if cur.Action != s.Action {
		switch {
		case cur.Origin == OriginStub:
			*cur = s
			b.reset(cur)
			return nil
		case s.Origin == OriginStub:
			return nil
		}
		return fmt.Errorf("syscall %s: action %s conflicts with %s", s.Name, s.Action, cur.Action)
	}
	set := b.set(cur)
	if len(cur.Rules) == 0 || s.Unconditional() {
		cur.Rules = nil
		clear(set)
	} else {
		for _, r := range s.Rules {
			if _, dup := set[r]; !dup {
				set[r] = struct{}{}
				cur.Rules = append(cur.Rules, r)
			}
		}
	}
	cur.Seen = addInt(cur.Seen, s.Seen)
	cur.Calls = addCalls(cur.Calls, s.Calls)
	if cur.Origin != s.Origin && cur.Origin != OriginRecorded {
		cur.Origin, cur.Reason = s.Origin, s.Reason
	}
	for _, n := range s.Notes {
		if !slices.Contains(cur.Notes, n) {
			cur.Notes = append(cur.Notes, n)
		}
	}
	return nil
}

// reset makes e's Rules a fresh list of its distinct rules, in the order
// given, or nil when one is unconditional, and records them as e's set.
func (b *Builder) reset(e *Syscall) {
	set := map[Rule]struct{}{}
	b.rules[e.Name] = set
	if slices.ContainsFunc(e.Rules, Rule.Unconditional) {
		e.Rules = nil
		return
	}
	rs := e.Rules
	e.Rules = nil
	for _, r := range rs {
		if _, dup := set[r]; !dup {
			set[r] = struct{}{}
			e.Rules = append(e.Rules, r)
		}
	}
}

// set returns the rule set of e, making it with reset when e was not
// added to since the last Done.
func (b *Builder) set(e *Syscall) map[Rule]struct{} {
	if _, ok := b.rules[e.Name]; !ok {
		b.reset(e)
	}
	return b.rules[e.Name]
}

// Done sorts the rules of every syscall added to, which makes the profile
// what as many calls of Profile.Add would have made it. The Builder may be
// used again afterwards.
func (b *Builder) Done() {
	for name := range b.rules {
		if e := b.p.Lookup(name); e != nil {
			sortRules(e.Rules)
		}
	}
	clear(b.rules)
}

// Merge returns the union of profiles of one architecture: a call allowed by
// any input is allowed. The default action is the first input's. Inputs
// and Seen add, stopping at the largest int rather than wrapping. Merge
// takes O(n log n) time for n rules in all.
func Merge(ps ...*Profile) (*Profile, error) {
	if len(ps) == 0 {
		return nil, fmt.Errorf("merge profiles: none given")
	}
	out := &Profile{Arch: ps[0].Arch, DefaultAction: ps[0].DefaultAction}
	b := NewBuilder(out)
	defer b.Done()
	notes := map[string]bool{}
	for i, p := range ps {
		if p.Arch != out.Arch {
			return nil, fmt.Errorf("merge profiles: input %d is for %s, input 1 for %s", i+1, p.Arch, out.Arch)
		}
		out.Inputs = addInt(out.Inputs, p.Inputs)
		if out.Command == nil {
			out.Command = slices.Clone(p.Command)
		}
		for _, n := range p.Notes {
			if !notes[n] {
				notes[n] = true
				out.Notes = append(out.Notes, n)
			}
		}
		for _, s := range p.Copy().Syscalls {
			if err := b.Add(s); err != nil {
				return nil, fmt.Errorf("merge profiles: input %d: %w", i+1, err)
			}
		}
	}
	return out, nil
}

// addInt returns a+b, or the largest int if that overflows (a, b >= 0).
func addInt(a, b int) int {
	if b > 0 && a > math.MaxInt-b {
		return math.MaxInt
	}
	return a + b
}

// normalizeRules removes duplicate rules and orders them by their text, so
// that equal profiles compare and print equal. An unconditional rule
// absorbs the others. It takes O(n log n) time.
func normalizeRules(rs []Rule) []Rule {
	if len(rs) == 0 {
		return nil
	}
	if slices.ContainsFunc(rs, Rule.Unconditional) {
		return nil
	}
	out := make([]Rule, 0, len(rs))
	seen := make(map[Rule]struct{}, len(rs))
	for _, r := range rs {
		if _, dup := seen[r]; !dup {
			seen[r] = struct{}{}
			out = append(out, r)
		}
	}
	sortRules(out)
	return out
}

// sortRules orders rs by their text, stably, rendering each rule once.
func sortRules(rs []Rule) {
	if len(rs) < 2 {
		return
	}
	type keyed struct {
		key  string
		rule Rule
	}
	ks := make([]keyed, len(rs))
	for i, r := range rs {
		ks[i] = keyed{r.String(), r}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int { return strings.Compare(a.key, b.key) })
	for i := range ks {
		rs[i] = ks[i].rule
	}
}
