package learn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"testing"
)

// refNormalizeRules and refAdd are normalizeRules and Profile.Add as they
// were before the Builder, quadratic but plainly right: the oracle that the
// fast versions must match exactly.
func refNormalizeRules(rs []Rule) []Rule {
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

func refAdd(p *Profile, s Syscall) error {
	cur := p.Lookup(s.Name)
	if cur == nil {
		s.Rules = refNormalizeRules(s.Rules)
		p.Syscalls = append(p.Syscalls, s)
		sort.Slice(p.Syscalls, func(i, j int) bool { return p.Syscalls[i].Name < p.Syscalls[j].Name })
		return nil
	}
	if cur.Action != s.Action {
		switch {
		case cur.Origin == OriginStub:
			*cur = s
			cur.Rules = refNormalizeRules(cur.Rules)
			return nil
		case s.Origin == OriginStub:
			return nil
		}
		return fmt.Errorf("syscall %s: action %s conflicts with %s", s.Name, s.Action, cur.Action)
	}
	if cur.Unconditional() || s.Unconditional() {
		cur.Rules = nil
	} else {
		cur.Rules = refNormalizeRules(append(cur.Rules, s.Rules...))
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

// randomMatcher draws from a small universe, so that rules repeat.
func randomMatcher(rng *rand.Rand) Matcher {
	v := uint64(rng.IntN(4))
	switch rng.IntN(5) {
	case 0:
		return nil
	case 1:
		return Equal{v}
	case 2:
		return MaskedEqual{Mask: 0xffffffff, Value: v}
	case 3:
		return MaskedEqual{Mask: ^uint64(7), Value: 0}
	}
	return NotEqual{v}
}

func randomRules(rng *rand.Rand) []Rule {
	var rs []Rule
	for range rng.IntN(8) {
		var r Rule
		if rng.IntN(12) != 0 { // else unconditional
			for range 1 + rng.IntN(2) {
				r[rng.IntN(3)] = randomMatcher(rng)
			}
		}
		rs = append(rs, r)
	}
	return rs
}

func randomEntry(rng *rand.Rand) Syscall {
	s := Syscall{
		Name:   []string{"ioctl", "socket", "fcntl", "read"}[rng.IntN(4)],
		Action: Allow,
		Rules:  randomRules(rng),
		Seen:   rng.IntN(3),
		Origin: []Origin{OriginRecorded, OriginBaseline, OriginRuntime, OriginImported}[rng.IntN(4)],
	}
	s.Reason = string(s.Origin) + " reason"
	switch rng.IntN(8) {
	case 0:
		s.Action, s.Origin = ErrnoENOSYS, OriginStub
	case 1:
		s.Action = Log
	}
	if rng.IntN(3) == 0 {
		s.Notes = []string{fmt.Sprintf("note %d", rng.IntN(3))}
	}
	return s
}

// TestBuilderMatchesAdd: a Builder, Profile.Add and the old quadratic Add
// make the same profile from the same entries, with the same errors, and
// leave the entries given to them as they were.
func TestBuilderMatchesAdd(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 7))
	for i := range 2000 {
		empty := &Profile{Arch: "amd64", DefaultAction: ErrnoEPERM}
		ref, add, built := empty.Copy(), empty.Copy(), empty.Copy()
		b := NewBuilder(built)
		var entries []Syscall
		for range rng.IntN(12) {
			entries = append(entries, randomEntry(rng))
		}
		before := fmt.Sprint(entries)
		for k, s := range entries {
			errRef := refAdd(ref, deepCopy(s))
			errAdd := add.Add(deepCopy(s))
			errB := b.Add(s)
			if fmt.Sprint(errRef) != fmt.Sprint(errAdd) || fmt.Sprint(errRef) != fmt.Sprint(errB) {
				t.Fatalf("case %d entry %d: errors differ: old Add %v, Add %v, Builder %v", i, k, errRef, errAdd, errB)
			}
			if rng.IntN(4) == 0 {
				b.Done() // a Builder may be used again after Done
			}
		}
		b.Done()
		if !reflect.DeepEqual(ref, add) || !reflect.DeepEqual(ref, built) {
			t.Fatalf("case %d: profiles differ:\nold Add: %+v\nAdd:     %+v\nBuilder: %+v", i, ref.Syscalls, add.Syscalls, built.Syscalls)
		}
		if fmt.Sprint(entries) != before {
			t.Fatalf("case %d: the Builder modified its entries", i)
		}
	}
}

func deepCopy(s Syscall) Syscall {
	s.Rules, s.Notes = slices.Clone(s.Rules), slices.Clone(s.Notes)
	return s
}

// TestNormalizeRules: normalizeRules gives what the old version gave, and
// is idempotent.
func TestNormalizeRules(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 19))
	for i := range 5000 {
		rs := randomRules(rng)
		in := slices.Clone(rs)
		once := normalizeRules(rs)
		if want := refNormalizeRules(in); !reflect.DeepEqual(once, want) {
			t.Fatalf("case %d: normalizeRules(%v) = %v, want %v", i, in, once, want)
		}
		if twice := normalizeRules(slices.Clone(once)); !reflect.DeepEqual(twice, once) {
			t.Fatalf("case %d: not idempotent: %v then %v", i, once, twice)
		}
		if !slices.Equal(rs, in) {
			t.Fatalf("case %d: normalizeRules modified its input", i)
		}
	}
}

// randomProfile builds a profile from random entries, skipping those that
// conflict.
func randomProfile(rng *rand.Rand) *Profile {
	p := &Profile{Arch: "amd64", DefaultAction: ErrnoEPERM, Inputs: 1 + rng.IntN(3)}
	if rng.IntN(4) == 0 {
		p.Inputs = math.MaxInt - rng.IntN(2)
	}
	b := NewBuilder(p)
	for range rng.IntN(10) {
		s := randomEntry(rng)
		if rng.IntN(4) == 0 {
			s.Seen = math.MaxInt - rng.IntN(2)
		}
		_ = b.Add(s) // a conflicting entry is left out
	}
	b.Done()
	if rng.IntN(3) == 0 {
		p.Notes = []string{fmt.Sprintf("note %d", rng.IntN(3))}
	}
	return p
}

// TestMergeProfilesAssociative: Merge(a, b, c), Merge(Merge(a, b), c) and
// Merge(a, Merge(b, c)) are the same profile, also when Inputs and Seen
// saturate, or all three fail; and the allowed calls of Merge(a, b) and
// Merge(b, a) are the same (the default action and the origins come from
// the first input).
func TestMergeProfilesAssociative(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 37))
	merge := func(ps ...*Profile) *Profile {
		m, err := Merge(ps...)
		if err != nil {
			return nil
		}
		return m
	}
	checked := 0
	for i := range 3000 {
		a, b, c := randomProfile(rng), randomProfile(rng), randomProfile(rng)
		abc := merge(a, b, c)
		var left, right *Profile
		if ab := merge(a, b); ab != nil {
			left = merge(ab, c)
		}
		if bc := merge(b, c); bc != nil {
			right = merge(a, bc)
		}
		if !reflect.DeepEqual(abc, left) || !reflect.DeepEqual(abc, right) {
			t.Fatalf("case %d: not associative:\nMerge(a,b,c)        %+v\nMerge(Merge(a,b),c) %+v\nMerge(a,Merge(b,c)) %+v", i, abc, left, right)
		}
		ab, ba := merge(a, b), merge(b, a)
		if (ab == nil) != (ba == nil) {
			t.Fatalf("case %d: Merge(a, b) %v but Merge(b, a) %v", i, ab != nil, ba != nil)
		}
		if ab == nil {
			continue
		}
		checked++
		if !slices.Equal(ab.Allowed(), ba.Allowed()) || ab.Inputs != ba.Inputs {
			t.Fatalf("case %d: allowed %v and %v, inputs %d and %d", i, ab.Allowed(), ba.Allowed(), ab.Inputs, ba.Inputs)
		}
		for k := range ab.Syscalls {
			x, y := ab.Syscalls[k], ba.Syscalls[k]
			if !reflect.DeepEqual(x.Rules, y.Rules) || x.Action != y.Action || x.Seen != y.Seen {
				t.Fatalf("case %d: %s: Merge(a, b) %+v, Merge(b, a) %+v", i, x.Name, x, y)
			}
		}
	}
	if checked < 100 {
		t.Errorf("only %d of 3000 cases merged without conflict", checked)
	}
}
