package learn_test

import (
	"testing"

	"github.com/profgen/profgen/learn"
)

// TestOperandsRoundTrip: every matcher type maps to a comparison and back,
// and keeps its meaning.
func TestOperandsRoundTrip(t *testing.T) {
	for _, m := range []learn.Matcher{
		learn.Equal{Value: 2}, learn.NotEqual{Value: 2}, learn.Less{Value: 2}, learn.LessEqual{Value: 2},
		learn.Greater{Value: 2}, learn.GreaterEqual{Value: 2}, learn.MaskedEqual{Mask: 0xff, Value: 2},
	} {
		op, operands, err := learn.Operands(m)
		if err != nil {
			t.Fatalf("%T: %v", m, err)
		}
		back, err := learn.NewMatcher(op, operands...)
		if err != nil || back != m {
			t.Errorf("%T %v -> %d %v -> %v, %v", m, m, op, operands, back, err)
		}
		for _, v := range []uint64{0, 1, 2, 3, 0x102, ^uint64(0)} {
			if back != nil && back.Matches(v) != m.Matches(v) {
				t.Errorf("%v and %v disagree on %#x", m, back, v)
			}
		}
	}
	if _, err := learn.NewMatcher(learn.OpMaskedEqual, 1); err == nil {
		t.Error("MASKED_EQ with one operand accepted")
	}
	if _, err := learn.NewMatcher(learn.Op(99), 1); err == nil {
		t.Error("unknown comparison accepted")
	}
}
