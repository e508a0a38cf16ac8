package trace

import (
	"strings"
	"testing"

	"github.com/profgen/profgen/internal/abi"
)

// TestArgTableChecked: the shipped table compiles, and a bad entry is
// refused with an error that names it.
func TestArgTableChecked(t *testing.T) {
	arch, err := abi.Native()
	if err != nil {
		t.Fatal(err)
	}
	masks, args, err := compileArgTable(arch, ArgTable)
	if err != nil {
		t.Fatalf("the shipped ArgTable: %v", err)
	}
	if len(masks) != len(ArgTable) || len(args) != len(ArgTable) {
		t.Errorf("%d masks, %d arg lists for %d entries", len(masks), len(args), len(ArgTable))
	}
	for _, c := range []struct {
		entry SyscallArgs
		want  string
	}{
		{SyscallArgs{"no_such_syscall", []ArgSpec{enum32(0, "x")}}, `unknown syscall "no_such_syscall"`},
		{SyscallArgs{"socket", []ArgSpec{enum32(6, "x")}}, "socket: argument index 6 is not 0..5"},
		{SyscallArgs{"socket", []ArgSpec{enum32(-1, "x")}}, "socket: argument index -1 is not 0..5"},
		{SyscallArgs{"socket", []ArgSpec{enum32(0, "x"), enum32(0, "y")}}, "socket: argument 0 listed twice"},
		{SyscallArgs{"socket", []ArgSpec{{Index: 0, Name: "x", Kind: "enum"}}}, "socket: argument 0 has an empty mask"},
		{SyscallArgs{"socket", []ArgSpec{{Index: 0, Name: "x", Kind: "bits", Mask: 1}}}, `socket: argument 0: unknown kind "bits"`},
	} {
		_, _, err := compileArgTable(arch, []SyscallArgs{c.entry})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err = %v, want %q", c.entry, err, c.want)
		}
	}
	dup := []SyscallArgs{{"ioctl", []ArgSpec{enum32(1, "a")}}, {"ioctl", []ArgSpec{enum32(2, "b")}}}
	if _, _, err := compileArgTable(arch, dup); err == nil || !strings.Contains(err.Error(), "ioctl listed twice") {
		t.Errorf("duplicate syscall: %v", err)
	}
}
