package learn

import (
	"errors"
	"fmt"
)

// Matcher is a condition on one 64-bit syscall argument.
type Matcher interface {
	// Matches reports whether the argument value v satisfies the matcher.
	Matches(v uint64) bool
	String() string
}

// Equal matches an argument equal to Value in all 64 bits.
type Equal struct{ Value uint64 }

// NotEqual matches an argument different from Value.
type NotEqual struct{ Value uint64 }

// Less matches an argument below Value (unsigned).
type Less struct{ Value uint64 }

// LessEqual matches an argument at most Value (unsigned).
type LessEqual struct{ Value uint64 }

// Greater matches an argument above Value (unsigned).
type Greater struct{ Value uint64 }

// GreaterEqual matches an argument at least Value (unsigned).
type GreaterEqual struct{ Value uint64 }

// MaskedEqual matches an argument whose bits under Mask equal Value. With a
// 32-bit Mask it compares an int argument whatever its upper half holds
// (sign-extended or not); with Value 0 it denies every bit in Mask.
type MaskedEqual struct{ Mask, Value uint64 }

func (m Equal) Matches(v uint64) bool        { return v == m.Value }
func (m NotEqual) Matches(v uint64) bool     { return v != m.Value }
func (m Less) Matches(v uint64) bool         { return v < m.Value }
func (m LessEqual) Matches(v uint64) bool    { return v <= m.Value }
func (m Greater) Matches(v uint64) bool      { return v > m.Value }
func (m GreaterEqual) Matches(v uint64) bool { return v >= m.Value }
func (m MaskedEqual) Matches(v uint64) bool  { return v&m.Mask == m.Value }

func (m Equal) String() string        { return fmt.Sprintf("== %#x", m.Value) }
func (m NotEqual) String() string     { return fmt.Sprintf("!= %#x", m.Value) }
func (m Less) String() string         { return fmt.Sprintf("< %#x", m.Value) }
func (m LessEqual) String() string    { return fmt.Sprintf("<= %#x", m.Value) }
func (m Greater) String() string      { return fmt.Sprintf("> %#x", m.Value) }
func (m GreaterEqual) String() string { return fmt.Sprintf(">= %#x", m.Value) }
func (m MaskedEqual) String() string  { return fmt.Sprintf("& %#x == %#x", m.Mask, m.Value) }

// Op is a comparison of seccomp's argument filters, as libseccomp and the
// OCI runtime-spec know them. Every output translates Ops with a table of
// its own names; the matcher types map to Ops only here.
type Op int

// Comparisons.
const (
	OpEqual Op = iota
	OpNotEqual
	OpLess
	OpLessEqual
	OpGreater
	OpGreaterEqual
	OpMaskedEqual
)

// Operands returns m's comparison and its operands in libseccomp's order:
// the value, or for MaskedEqual the mask and then the value.
func Operands(m Matcher) (Op, []uint64, error) {
	switch m := m.(type) {
	case Equal:
		return OpEqual, []uint64{m.Value}, nil
	case NotEqual:
		return OpNotEqual, []uint64{m.Value}, nil
	case Less:
		return OpLess, []uint64{m.Value}, nil
	case LessEqual:
		return OpLessEqual, []uint64{m.Value}, nil
	case Greater:
		return OpGreater, []uint64{m.Value}, nil
	case GreaterEqual:
		return OpGreaterEqual, []uint64{m.Value}, nil
	case MaskedEqual:
		return OpMaskedEqual, []uint64{m.Mask, m.Value}, nil
	}
	return 0, nil, fmt.Errorf("unknown matcher %T", m)
}

// NewMatcher is the inverse of Operands.
func NewMatcher(op Op, operands ...uint64) (Matcher, error) {
	want := 1
	if op == OpMaskedEqual {
		want = 2
	}
	if len(operands) != want {
		return nil, fmt.Errorf("comparison %d takes %d operands, not %d", op, want, len(operands))
	}
	v := operands[0]
	switch op {
	case OpEqual:
		return Equal{v}, nil
	case OpNotEqual:
		return NotEqual{v}, nil
	case OpLess:
		return Less{v}, nil
	case OpLessEqual:
		return LessEqual{v}, nil
	case OpGreater:
		return Greater{v}, nil
	case OpGreaterEqual:
		return GreaterEqual{v}, nil
	case OpMaskedEqual:
		return MaskedEqual{Mask: v, Value: operands[1]}, nil
	}
	return nil, fmt.Errorf("unknown comparison %d", op)
}

// ErrNeverMatches marks a condition that no argument value satisfies as the
// model reads it. Such a rule is dead in an allowlist at best; at worst
// another tool reads it otherwise (libseccomp compares a MaskedEqual's
// Value under its Mask), so profgen refuses it rather than guess.
var ErrNeverMatches = errors.New("never matches")

// CheckMatcher returns an error wrapping ErrNeverMatches if no 64-bit
// argument value satisfies m: a MaskedEqual whose Value has bits outside
// its Mask (which includes a value wider than a 32-bit mask), a Less than 0,
// a Greater than 2^64-1. Every other matcher matches some value.
func CheckMatcher(m Matcher) error {
	switch m := m.(type) {
	case MaskedEqual:
		if extra := m.Value &^ m.Mask; extra != 0 {
			return fmt.Errorf("%s %w: value %#x has bits %#x outside mask %#x (libseccomp, and so runc and crun, would compare it as %#x: write that if it is meant)",
				m, ErrNeverMatches, m.Value, extra, m.Mask, m.Value&m.Mask)
		}
	case Less:
		if m.Value == 0 {
			return fmt.Errorf("%s %w: no value is below 0", m, ErrNeverMatches)
		}
	case Greater:
		if m.Value == ^uint64(0) {
			return fmt.Errorf("%s %w: no value is above %#x", m, ErrNeverMatches, m.Value)
		}
	}
	return nil
}
