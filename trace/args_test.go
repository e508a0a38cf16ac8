package trace

import (
	"strings"
	"testing"

	"github.com/profgen/profgen/argspec"
	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/recording"
)

// TestArgTableChecked: the shipped table compiles, and a bad entry is
// refused with an error that names it.
func TestArgTableChecked(t *testing.T) {
	arch, err := abi.Native()
	if err != nil {
		t.Fatal(err)
	}
	masks, args, err := compileArgTable(arch, argspec.Table)
	if err != nil {
		t.Fatalf("the shipped argspec.Table: %v", err)
	}
	if len(masks) != len(argspec.Table) || len(args) != len(argspec.Table) {
		t.Errorf("%d masks, %d arg lists for %d entries", len(masks), len(args), len(argspec.Table))
	}
	for _, c := range []struct {
		entry argspec.Entry
		want  string
	}{
		{argspec.Entry{Syscall: "no_such_syscall", Args: []argspec.Arg{enum32(0, "x")}}, `unknown syscall "no_such_syscall"`},
		{argspec.Entry{Syscall: "socket", Args: []argspec.Arg{enum32(6, "x")}}, "socket: argument index 6 is not 0..5"},
		{argspec.Entry{Syscall: "socket", Args: []argspec.Arg{enum32(-1, "x")}}, "socket: argument index -1 is not 0..5"},
		{argspec.Entry{Syscall: "socket", Args: []argspec.Arg{enum32(0, "x"), enum32(0, "y")}}, "socket: argument 0 listed twice"},
		{argspec.Entry{Syscall: "socket", Args: []argspec.Arg{{Index: 0, Name: "x", Kind: "enum"}}}, "socket: argument 0 has an empty mask"},
		{argspec.Entry{Syscall: "socket", Args: []argspec.Arg{{Index: 0, Name: "x", Kind: "bits", Mask: 1}}}, `socket: argument 0: unknown kind "bits"`},
	} {
		_, _, err := compileArgTable(arch, []argspec.Entry{c.entry})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err = %v, want %q", c.entry, err, c.want)
		}
	}
	dup := []argspec.Entry{{Syscall: "ioctl", Args: []argspec.Arg{enum32(1, "a")}}, {Syscall: "ioctl", Args: []argspec.Arg{enum32(2, "b")}}}
	if _, _, err := compileArgTable(arch, dup); err == nil || !strings.Contains(err.Error(), "ioctl listed twice") {
		t.Errorf("duplicate syscall: %v", err)
	}
}

// enum32 is a 32-bit enum argument for the tests' own tables.
func enum32(i int, name string) argspec.Arg {
	return argspec.Arg{Index: i, Name: name, Kind: recording.KindEnum, Mask: 0xffffffff}
}
