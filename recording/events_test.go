package recording

import (
	"reflect"
	"testing"
)

// TestSyscallEvents: a syscall with no captured argument, or with
// arguments but no shape, is one event for all its calls; one with shapes
// is one event per shape, each value at its argument's register.
func TestSyscallEvents(t *testing.T) {
	args := []Arg{{Index: 1, Name: "cmd"}, {Index: 3, Name: "flags"}}
	for _, c := range []struct {
		name string
		s    Syscall
		want []Event
	}{
		{"no argument", Syscall{Count: 7}, []Event{{Count: 7}}},
		{"arguments, no shape", Syscall{Count: 4, Args: args}, []Event{{Count: 4}}},
		{"shapes", Syscall{Count: 5, Args: args, Shapes: []Shape{{Values: []Hex{1, 0x80}, Count: 2}, {Values: []Hex{3, 0}, Count: 3}}},
			[]Event{{Args: [6]uint64{1: 1, 3: 0x80}, HasArgs: true, Count: 2}, {Args: [6]uint64{1: 3}, HasArgs: true, Count: 3}}},
		{"a shape shorter than its arguments", Syscall{Count: 1, Args: args, Shapes: []Shape{{Values: []Hex{9}, Count: 1}}},
			[]Event{{Args: [6]uint64{1: 9}, HasArgs: true, Count: 1}}},
	} {
		if got := c.s.Events(); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}
