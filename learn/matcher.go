package learn

import "fmt"

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
