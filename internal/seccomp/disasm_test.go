package seccomp

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestDisassembleFollowsJumps: a comparison of the syscall number reached
// by a jump over an argument check is named (the accumulator holds the
// number on the only path to it), and one reached from both the number
// and an argument load is not.
func TestDisassembleFollowsJumps(t *testing.T) {
	ld := func(off uint32) unix.SockFilter {
		return unix.SockFilter{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: off}
	}
	jeq := func(k uint32, jt, jf uint8) unix.SockFilter {
		return unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: k, Jt: jt, Jf: jf}
	}
	ret := unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW}
	prog := []unix.SockFilter{
		ld(0),        // 0
		jeq(0, 0, 3), // 1: read? true: 2, false: 5
		ld(16),       // 2
		jeq(1, 0, 0), // 3: arg0
		ret,          // 4
		jeq(1, 0, 0), // 5: only from 1's false branch: nr, write
		ret,          // 6
	}
	var b strings.Builder
	if err := Disassemble(&b, prog); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	if !strings.Contains(lines[5], "write") {
		t.Errorf("line 5 does not name write:\n%s", b.String())
	}
	if strings.Contains(lines[3], "write") {
		t.Errorf("line 3 (an argument compare) names write:\n%s", b.String())
	}
	merged := []unix.SockFilter{
		ld(0),        // 0
		jeq(0, 0, 2), // 1: read? true: 2, false: 4
		ld(16),       // 2
		jeq(7, 0, 0), // 3: arg0, falls to 4
		jeq(1, 0, 0), // 4: from 1 (nr) and 3 (arg0): not named
		ret,          // 5
	}
	b.Reset()
	if err := Disassemble(&b, merged); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(b.String(), "\n"); strings.Contains(lines[4], "write") {
		t.Errorf("line 4 (reached with two different loads) names write:\n%s", b.String())
	}
}
