package learn

import (
	"fmt"
	"slices"
	"sort"

	"github.com/profgen/profgen/internal/abi"
)

// Origins of a profile entry: why a syscall is in the profile.
const (
	OriginRecorded = "recorded"
	OriginBaseline = "baseline"
	OriginRuntime  = "runtime"
	OriginStub     = "enosys-stub"
	OriginImported = "imported"
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
	// Origin says why the syscall is in the profile; Reason adds detail.
	Origin string
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
func (p *Profile) Add(s Syscall) error {
	cur := p.Lookup(s.Name)
	if cur == nil {
		s.Rules = normalizeRules(s.Rules)
		p.Syscalls = append(p.Syscalls, s)
		sort.Slice(p.Syscalls, func(i, j int) bool { return p.Syscalls[i].Name < p.Syscalls[j].Name })
		return nil
	}
	if cur.Action != s.Action {
		switch {
		case cur.Origin == OriginStub:
			*cur = s
			cur.Rules = normalizeRules(cur.Rules)
			return nil
		case s.Origin == OriginStub:
			return nil
		}
		return fmt.Errorf("syscall %s: action %s conflicts with %s", s.Name, s.Action, cur.Action)
	}
	if cur.Unconditional() || s.Unconditional() {
		cur.Rules = nil
	} else {
		cur.Rules = normalizeRules(append(cur.Rules, s.Rules...))
	}
	cur.Seen += s.Seen
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

// Merge returns the union of profiles of one architecture: a call allowed by
// any input is allowed. The default action is the first input's.
func Merge(ps ...*Profile) (*Profile, error) {
	if len(ps) == 0 {
		return nil, fmt.Errorf("merge profiles: none given")
	}
	out := &Profile{Arch: ps[0].Arch, DefaultAction: ps[0].DefaultAction}
	for i, p := range ps {
		if p.Arch != out.Arch {
			return nil, fmt.Errorf("merge profiles: input %d is for %s, input 1 for %s", i+1, p.Arch, out.Arch)
		}
		out.Inputs += p.Inputs
		if out.Command == nil {
			out.Command = slices.Clone(p.Command)
		}
		for _, n := range p.Notes {
			if !slices.Contains(out.Notes, n) {
				out.Notes = append(out.Notes, n)
			}
		}
		for _, s := range p.Copy().Syscalls {
			if err := out.Add(s); err != nil {
				return nil, fmt.Errorf("merge profiles: input %d: %w", i+1, err)
			}
		}
	}
	return out, nil
}

// normalizeRules removes duplicate rules and orders them by their text, so
// that equal profiles compare and print equal. An unconditional rule
// absorbs the others.
func normalizeRules(rs []Rule) []Rule {
	if len(rs) == 0 {
		return nil
	}
	if slices.ContainsFunc(rs, Rule.Unconditional) {
		return nil
	}
	out := make([]Rule, 0, len(rs))
	for _, r := range rs {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}
