package learn

import (
	"errors"
	"math/rand/v2"
	"testing"
)

// randomAnyMatcher draws a matcher of any type, with values at the edges of
// their range as often as not.
func randomAnyMatcher(rng *rand.Rand) Matcher {
	value := func() uint64 {
		switch rng.IntN(6) {
		case 0:
			return 0
		case 1:
			return ^uint64(0)
		case 2:
			return 0xffffffff
		case 3:
			return uint64(rng.IntN(16))
		}
		return rng.Uint64() & rng.Uint64()
	}
	switch rng.IntN(8) {
	case 0:
		return Equal{value()}
	case 1:
		return NotEqual{value()}
	case 2:
		return Less{value()}
	case 3:
		return LessEqual{value()}
	case 4:
		return Greater{value()}
	case 5:
		return GreaterEqual{value()}
	case 6:
		mask := value()
		return MaskedEqual{Mask: mask, Value: value() & mask}
	}
	return MaskedEqual{Mask: value(), Value: value()}
}

// TestRepresentatives: every representative call diff derives from a rule
// that passes Check matches that rule (so diff P P finds no drift even
// without its shortcut for identical rules), and a rule that fails Check
// is matched by no value tried.
func TestRepresentatives(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 29))
	dead := 0
	for i := range 20000 {
		var r Rule
		for range 1 + rng.IntN(3) {
			r[rng.IntN(6)] = randomAnyMatcher(rng)
		}
		err := r.Check()
		if err != nil {
			dead++
			if !errors.Is(err, ErrNeverMatches) {
				t.Fatalf("case %d: %v: error %v is not ErrNeverMatches", i, r, err)
			}
			for _, args := range representatives(r) {
				if r.Matches(args) {
					t.Fatalf("case %d: %v fails Check (%v) but matches %#x", i, r, err, args)
				}
			}
			continue
		}
		for _, args := range representatives(r) {
			if !r.Matches(args) {
				t.Fatalf("case %d: %v passes Check but its representative %#x does not match it", i, r, args)
			}
		}
	}
	if dead == 0 {
		t.Error("no rule failed Check: the generator does not cover it")
	}
}

// TestCheckMatcher: the three conditions no value satisfies, and their
// neighbours that some value does.
func TestCheckMatcher(t *testing.T) {
	for _, c := range []struct {
		m    Matcher
		dead bool
	}{
		{MaskedEqual{Mask: 0xff, Value: 0x100}, true},
		{MaskedEqual{Mask: 0xffffffff, Value: 0x1_0000_0000}, true},
		{MaskedEqual{Mask: 0, Value: 1}, true},
		{MaskedEqual{Mask: 0xff, Value: 0xff}, false},
		{MaskedEqual{Mask: 0, Value: 0}, false},
		{Less{0}, true},
		{Less{1}, false},
		{Greater{^uint64(0)}, true},
		{Greater{^uint64(0) - 1}, false},
		{Equal{^uint64(0)}, false},
		{NotEqual{0}, false},
		{LessEqual{0}, false},
		{GreaterEqual{^uint64(0)}, false},
	} {
		err := CheckMatcher(c.m)
		if (err != nil) != c.dead {
			t.Errorf("%v: %v, want never-matches %v", c.m, err, c.dead)
		}
		// Brute force where it is cheap: a dead matcher rejects the
		// values around its operands.
		if c.dead {
			op, operands, _ := Operands(c.m)
			for _, v := range operands {
				for _, x := range []uint64{0, 1, v - 1, v, v + 1, ^uint64(0)} {
					if c.m.Matches(x) {
						t.Errorf("%v (op %d) said never to match, but matches %#x", c.m, op, x)
					}
				}
			}
		}
	}
}

// TestFixedRulesSatisfiable: every rule profgen adds by itself (baseline,
// runtimes, stubs) passes Check.
func TestFixedRulesSatisfiable(t *testing.T) {
	all := append([]fixedCall{}, baseline...)
	for _, cs := range runtimeCalls {
		all = append(all, cs...)
	}
	all = append(all, enosysStubs...)
	for _, c := range all {
		for _, r := range c.rules {
			if err := r.Check(); err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
		}
	}
}
