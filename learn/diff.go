package learn

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/profgen/profgen/recording"
)

// DiffInput is one side of a diff: a recording or a profile (set exactly
// one).
type DiffInput struct {
	Recording *recording.Recording
	Profile   *Profile
}

// Difference is what changed between an old and a new recording or
// profile, and what the new one needs that the old one does not allow.
type Difference struct {
	// Syscalls lists, sorted by name, the syscalls added, removed, or
	// whose argument values changed.
	Syscalls []SyscallDiff `json:"syscalls"`
	// Drift lists what NEW needs that OLD does not allow. A CI gate
	// fails when it is not empty.
	Drift []Drift `json:"drift"`
	// Notes say what could not be compared.
	Notes []string `json:"notes,omitempty"`
}

// Change kinds of a SyscallDiff.
const (
	ChangeAdded   = "added"
	ChangeRemoved = "removed"
	ChangeChanged = "changed"
)

// SyscallDiff is the change of one syscall.
type SyscallDiff struct {
	Name   string `json:"name"`
	Change string `json:"change"`
	// Args lists the argument values added and removed, for a changed
	// syscall.
	Args []ArgDiff `json:"args,omitempty"`
}

// ArgDiff lists the values of one argument that only one side has. When
// both sides are recordings, an argument is a captured argument and its
// values are hexadecimal; otherwise Name is "rules" and the values are the
// profile's rules for the syscall.
type ArgDiff struct {
	Index   int      `json:"index"`
	Name    string   `json:"name"`
	Added   []string `json:"added,omitempty"`
	Removed []string `json:"removed,omitempty"`
}

// Drift is one call NEW needs that OLD does not allow.
type Drift struct {
	Syscall string `json:"syscall"`
	// Args is the call's arguments when they matter (HasArgs).
	Args    [6]uint64 `json:"args"`
	HasArgs bool      `json:"hasArgs"`
	// Detail says what NEW needs, e.g. "domain=0x10 type=0x3".
	Detail string `json:"detail,omitempty"`
	// Old is what OLD does with the call.
	Old string `json:"old"`
}

// diffOptions are the options recordings are learned with for a diff:
// no runtime, so that what the workload needs is compared strictly.
var diffOptions = Options{Runtime: LoaderNone}

// Diff compares old and cur, the new side. Two recordings are compared
// syscall by syscall and argument value by argument value; a profile is
// compared by its rules (a recording facing a profile is learned into one
// first, with the runtime whose own syscalls the profile allows, if any;
// two recordings are learned with none). Drift evaluates what the new side
// needs in old's profile (learned, when old is a recording): every
// recorded call shape of a new recording, or for a new profile every
// syscall it allows and a representative call of each of its rules.
func Diff(old, cur DiffInput) (*Difference, error) {
	// A recording facing a profile is learned with the runtime the
	// profile was most likely emitted for, so that the runtime's own
	// syscalls neither show as removed nor unpin what it shares.
	opts := diffOptions
	switch {
	case old.Profile != nil && cur.Recording != nil:
		opts.Runtime = guessLoader(old.Profile)
	case cur.Profile != nil && old.Recording != nil:
		opts.Runtime = guessLoader(cur.Profile)
	}
	oldP, err := old.profile(opts)
	if err != nil {
		return nil, fmt.Errorf("diff: old: %w", err)
	}
	newP, err := cur.profile(opts)
	if err != nil {
		return nil, fmt.Errorf("diff: new: %w", err)
	}
	if oldP.Arch != newP.Arch {
		return nil, fmt.Errorf("diff: old is for %s, new for %s", oldP.Arch, newP.Arch)
	}
	d := &Difference{Syscalls: []SyscallDiff{}, Drift: []Drift{}}
	if old.Recording != nil && cur.Recording != nil {
		d.diffRecordings(old.Recording, cur.Recording)
	} else {
		d.diffProfiles(oldP, newP)
	}
	if cur.Recording != nil {
		d.driftRecording(oldP, cur.Recording)
	} else {
		d.driftProfile(oldP, newP)
	}
	return d, nil
}

// Drifted reports whether the new side needs something old does not allow.
func (d *Difference) Drifted() bool { return len(d.Drift) > 0 }

// guessLoader returns the runtime with the most own syscalls that p
// allows, all of them; LoaderNone if there is none.
func guessLoader(p *Profile) Loader {
	best, most := LoaderNone, 0
	for _, rt := range []Loader{LoaderRunc, LoaderCrun} {
		names := LoaderSyscalls(rt)
		ok := len(names) > most
		for _, n := range names {
			s := p.Lookup(n)
			ok = ok && s != nil && allows(s.Action)
		}
		if ok {
			best, most = rt, len(names)
		}
	}
	return best
}

func (in DiffInput) profile(opts Options) (*Profile, error) {
	switch {
	case in.Recording != nil && in.Profile != nil:
		return nil, fmt.Errorf("both a recording and a profile given")
	case in.Profile != nil:
		return in.Profile, nil
	case in.Recording != nil:
		return FromRecording(in.Recording, opts)
	}
	return nil, fmt.Errorf("nothing given")
}

func (d *Difference) diffRecordings(old, cur *recording.Recording) {
	for _, name := range unionNames(old.Names(), cur.Names()) {
		o, n := old.Lookup(name), cur.Lookup(name)
		switch {
		case o == nil:
			d.Syscalls = append(d.Syscalls, SyscallDiff{Name: name, Change: ChangeAdded, Args: argValues(n, nil)})
		case n == nil:
			d.Syscalls = append(d.Syscalls, SyscallDiff{Name: name, Change: ChangeRemoved})
		default:
			if args := argValues(n, o); len(args) > 0 {
				d.Syscalls = append(d.Syscalls, SyscallDiff{Name: name, Change: ChangeChanged, Args: args})
			}
		}
	}
}

// argValues returns, per captured argument of n, the values n has and o
// has not (Added) and the reverse (Removed). o may be nil.
func argValues(n, o *recording.Syscall) []ArgDiff {
	values := func(s *recording.Syscall, idx int) []string {
		if s == nil {
			return nil
		}
		k := slices.IndexFunc(s.Args, func(a recording.Arg) bool { return a.Index == idx })
		if k < 0 {
			return nil
		}
		var vs []string
		seen := map[recording.Hex]bool{}
		for _, sh := range s.Shapes {
			if v := sh.Values[k]; !seen[v] {
				seen[v] = true
				vs = append(vs, fmt.Sprintf("%#x", uint64(v)))
			}
		}
		return vs
	}
	if len(n.Args) == 0 || (o != nil && len(o.Args) == 0) {
		return nil // one side did not capture the arguments
	}
	var out []ArgDiff
	seen := map[int]bool{}
	for _, s := range []*recording.Syscall{n, o} {
		if s == nil {
			continue
		}
		for _, a := range s.Args {
			if seen[a.Index] {
				continue
			}
			seen[a.Index] = true
			nv, ov := values(n, a.Index), values(o, a.Index)
			ad := ArgDiff{Index: a.Index, Name: a.Name, Added: minus(nv, ov), Removed: minus(ov, nv)}
			if o == nil {
				ad.Removed = nil
			}
			if len(ad.Added) > 0 || len(ad.Removed) > 0 {
				out = append(out, ad)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out
}

func (d *Difference) diffProfiles(old, cur *Profile) {
	for _, name := range unionNames(old.Allowed(), cur.Allowed()) {
		o, n := allowedEntry(old, name), allowedEntry(cur, name)
		switch {
		case o == nil:
			d.Syscalls = append(d.Syscalls, SyscallDiff{Name: name, Change: ChangeAdded, Args: ruleDiff(n, nil)})
		case n == nil:
			d.Syscalls = append(d.Syscalls, SyscallDiff{Name: name, Change: ChangeRemoved})
		default:
			if args := ruleDiff(n, o); len(args) > 0 {
				d.Syscalls = append(d.Syscalls, SyscallDiff{Name: name, Change: ChangeChanged, Args: args})
			}
		}
	}
}

func allowedEntry(p *Profile, name string) *Syscall {
	s := p.Lookup(name)
	if s == nil || (s.Action.Kind != ActAllow && s.Action.Kind != ActLog) {
		return nil
	}
	return s
}

func ruleTexts(s *Syscall) []string {
	if s == nil {
		return nil
	}
	if len(s.Rules) == 0 {
		return []string{"any"}
	}
	out := make([]string, len(s.Rules))
	for i, r := range s.Rules {
		out[i] = r.String()
	}
	return out
}

func ruleDiff(n, o *Syscall) []ArgDiff {
	nr, or := ruleTexts(n), ruleTexts(o)
	ad := ArgDiff{Index: -1, Name: "rules", Added: minus(nr, or), Removed: minus(or, nr)}
	if o == nil && len(n.Rules) == 0 {
		return nil // an added syscall allowed with any arguments
	}
	if len(ad.Added) == 0 && len(ad.Removed) == 0 {
		return nil
	}
	return []ArgDiff{ad}
}

func allows(a Action) bool { return a.Kind == ActAllow || a.Kind == ActLog }

// driftRecording checks every call the new side recorded against old.
func (d *Difference) driftRecording(old *Profile, cur *recording.Recording) {
	var unchecked []string
	for _, s := range cur.Syscalls {
		entry := old.Lookup(s.Name)
		if entry == nil || !allows(entry.Action) {
			d.Drift = append(d.Drift, Drift{Syscall: s.Name, Old: old.Verdict(s.Name, [6]uint64{}).String()})
			continue
		}
		if len(entry.Rules) == 0 {
			continue
		}
		if len(s.Args) == 0 || len(s.Shapes) == 0 {
			unchecked = append(unchecked, s.Name)
			continue
		}
		for _, sh := range s.Shapes {
			var args [6]uint64
			var parts []string
			for k, a := range s.Args {
				args[a.Index] = uint64(sh.Values[k])
				parts = append(parts, fmt.Sprintf("%s=%#x", a.Name, uint64(sh.Values[k])))
			}
			if v := old.Verdict(s.Name, args); !allows(v) {
				d.Drift = append(d.Drift, Drift{Syscall: s.Name, Args: args, HasArgs: true, Detail: strings.Join(parts, " "), Old: v.String()})
			}
		}
	}
	if len(unchecked) > 0 {
		d.Notes = append(d.Notes, fmt.Sprintf("new recorded no argument values for %s, which old allows only with some arguments: not checked", strings.Join(unchecked, ", ")))
	}
}

// driftProfile checks what the new side allows against old: every allowed
// syscall, any arguments where it has no rules, and a representative call of each
// of new's rules.
func (d *Difference) driftProfile(old, cur *Profile) {
	for _, s := range cur.Syscalls {
		if !allows(s.Action) {
			continue
		}
		entry := old.Lookup(s.Name)
		if entry == nil || !allows(entry.Action) {
			d.Drift = append(d.Drift, Drift{Syscall: s.Name, Old: old.Verdict(s.Name, [6]uint64{}).String()})
			continue
		}
		if len(entry.Rules) == 0 {
			continue
		}
		if len(s.Rules) == 0 {
			d.Drift = append(d.Drift, Drift{Syscall: s.Name, Detail: "any arguments", Old: "allowed only if " + strings.Join(ruleTexts(entry), " || ")})
			continue
		}
		same := make(map[Rule]bool, len(entry.Rules))
		for _, r := range entry.Rules {
			same[r] = true
		}
		for _, r := range s.Rules {
			if same[r] {
				continue // old has the very rule: it allows what the rule allows
			}
			for _, args := range representatives(r) {
				if v := old.Verdict(s.Name, args); !allows(v) {
					d.Drift = append(d.Drift, Drift{Syscall: s.Name, Args: args, HasArgs: true, Detail: "rule " + r.String(), Old: v.String()})
					break
				}
			}
		}
	}
}

// representatives returns calls that r allows: one with each matcher's
// simplest match, and for a flags matcher (MASKED_EQ of denied bits
// against 0) one with all its allowed bits set and one per allowed bit.
func representatives(r Rule) [][6]uint64 {
	var base [6]uint64
	for i, m := range r {
		base[i] = simplestMatch(m)
	}
	out := [][6]uint64{base}
	for i, m := range r {
		me, ok := m.(MaskedEqual)
		if !ok || me.Value != 0 {
			continue
		}
		width := ^uint64(0)
		if me.Mask>>32 == 0 {
			width = 0xffffffff
		}
		allowed := width &^ me.Mask
		if allowed == 0 {
			continue
		}
		e := base
		e[i] = allowed
		out = append(out, e)
		for b := allowed; b != 0; b &= b - 1 {
			e := base
			e[i] = b & -b
			out = append(out, e)
		}
	}
	return out
}

func simplestMatch(m Matcher) uint64 {
	switch m := m.(type) {
	case Equal:
		return m.Value
	case NotEqual:
		return m.Value + 1
	case Less:
		return 0
	case LessEqual:
		return 0
	case Greater:
		return m.Value + 1
	case GreaterEqual:
		return m.Value
	case MaskedEqual:
		return m.Value
	}
	return 0
}

// unionNames returns the sorted union of a and b.
func unionNames(a, b []string) []string {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

// minus returns the elements of a not in b, in a's order.
func minus(a, b []string) []string {
	in := make(map[string]bool, len(b))
	for _, x := range b {
		in[x] = true
	}
	var out []string
	for _, x := range a {
		if !in[x] {
			out = append(out, x)
		}
	}
	return out
}
