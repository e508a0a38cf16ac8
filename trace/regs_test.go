package trace

import (
	"fmt"
	"testing"

	"github.com/profgen/profgen/argspec"
	"github.com/profgen/profgen/recording"
)

// sixArgsSrc makes getppid with six distinct argument values (getppid
// ignores them; the registers still carry them to sys_enter), 3 times.
const sixArgsSrc = `
#include <sys/syscall.h>
#include <unistd.h>
int main(void) {
	for (int i = 0; i < 3; i++)
		syscall(SYS_getppid, 0x11L, 0x22L, 0x33L, 0x44L, 0x55L, 0x66L);
	return 0;
}
`

// TestRecordSixArgs: the recorder's one read of the argument registers
// puts each of the six arguments (di, si, dx, r10, r8, r9) at its own
// index, masked by the table.
func TestRecordSixArgs(t *testing.T) {
	bin := buildC(t, "sixargs", sixArgsSrc)
	spec := argspec.Entry{Syscall: "getppid"}
	for i := 0; i < 6; i++ {
		a := enum32(i, fmt.Sprintf("a%d", i))
		if i == 5 {
			a.Mask = 0x0f // only the low nibble of the sixth
		}
		spec.Args = append(spec.Args, a)
	}
	res := record(t, Options{Command: []string{bin}, ArgTable: []argspec.Entry{spec}})
	got := shapes(res.Recording, "getppid")
	want := []recording.Hex{0x11, 0x22, 0x33, 0x44, 0x55, 0x06}
	if len(got) != 1 || fmt.Sprint(got[0]) != fmt.Sprint(want) {
		t.Fatalf("getppid shapes %v, want one: %v", got, want)
	}
	if n := count(t, res.Recording, "getppid"); n != 3 {
		t.Errorf("getppid counted %d times, want 3", n)
	}
}
