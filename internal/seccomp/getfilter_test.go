package seccomp

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/internal/testenv"
)

// childEnv makes the test binary a child that installs the test filters
// and waits for its standard input to close.
const childEnv = "PROFGEN_SECCOMP_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(child())
	}
	os.Exit(m.Run())
}

// testFilters are stacked in this order; the kernel gives the first index
// 0. Each denies
// one harmless syscall the Go runtime does not make and allows the rest.
func testFilters() [][]unix.SockFilter {
	var out [][]unix.SockFilter
	for _, name := range []string{"getpriority", "setpriority"} {
		nr, err := abi.SyscallNumber(mustNative(), name)
		if err != nil {
			panic(err)
		}
		rs, err := bpf.Assemble([]bpf.Instruction{
			bpf.LoadAbsolute{Off: 0, Size: 4},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(nr), SkipFalse: 1},
			bpf.RetConstant{Val: unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)},
			bpf.RetConstant{Val: unix.SECCOMP_RET_ALLOW},
		})
		if err != nil {
			panic(err)
		}
		prog := make([]unix.SockFilter, len(rs))
		for i, r := range rs {
			prog[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
		}
		out = append(out, prog)
	}
	return out
}

func mustNative() abi.Arch {
	a, err := abi.Native()
	if err != nil {
		panic(err)
	}
	return a
}

func child() int {
	runtime.LockOSThread()
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for _, prog := range testFilters() {
		fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
		if _, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&fprog))); e != 0 {
			fmt.Fprintln(os.Stderr, e)
			return 1
		}
	}
	os.Stdout.WriteString("ready\n")
	buf := make([]byte, 1)
	os.Stdin.Read(buf)
	return 0
}

// startChild starts a process under the test filters and returns its pid.
func startChild(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	buf := make([]byte, 6)
	if _, err := stdout.Read(buf); err != nil || string(buf) != "ready\n" {
		t.Fatalf("child not ready: %q %v", buf, err)
	}
	return cmd.Process.Pid
}

func TestGetFilterStacked(t *testing.T) {
	pid := startChild(t)
	st, err := ReadStatus(pid)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode != 2 || st.Filters != 2 {
		t.Fatalf("status %+v, want mode 2 with 2 filters", st)
	}
	want := testFilters()
	for index, installed := range []int{0, 1} {
		got, err := GetFilter(pid, index)
		if err != nil {
			testenv.FilterReadback(t, err)
		}
		if !slices.Equal(got, want[installed]) {
			t.Errorf("filter %d = %v, want %v (installed %d-th)", index, got, want[installed], installed)
		}
	}
	_, err = GetFilter(pid, 2)
	if !errors.Is(err, ErrNoFilter) || !strings.Contains(err.Error(), "it has 2") {
		t.Errorf("index 2: %v", err)
	}
	// The process goes on after the dump: it still answers (a stopped
	// or killed child would not).
	st2, err := ReadStatus(pid)
	if err != nil || st2 != st {
		t.Errorf("after dump: %+v %v", st2, err)
	}
	state, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	if f := strings.Fields(string(state[strings.LastIndexByte(string(state), ')')+1:])); f[0] == "t" || f[0] == "T" {
		t.Errorf("child left stopped: state %s", f[0])
	}
}

func TestGetFilterErrors(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	if _, err := GetFilter(cmd.Process.Pid, 0); !errors.Is(err, ErrNoFilter) || !strings.Contains(err.Error(), "without seccomp") {
		t.Errorf("no filter: %v", err)
	}
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	if _, err := GetFilter(gone.Process.Pid, 0); !errors.Is(err, ErrNoProcess) {
		t.Errorf("exited process %d: %v", gone.Process.Pid, err)
	}
	if _, err := GetFilter(-3, 0); !errors.Is(err, ErrNoProcess) {
		t.Errorf("pid -3: %v", err)
	}
}

func TestDisassemble(t *testing.T) {
	var b strings.Builder
	if err := Disassemble(&b, testFilters()[0]); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ld [0]", "syscall number", "getpriority", "errno(EPERM)", "allow"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("disassembly lacks %q:\n%s", want, b.String())
		}
	}
}

func TestDecodeRet(t *testing.T) {
	for ret, want := range map[uint32]string{
		unix.SECCOMP_RET_KILL_PROCESS: "kill_process",
		unix.SECCOMP_RET_KILL_THREAD:  "kill_thread",
		unix.SECCOMP_RET_TRAP:         "trap",
		unix.SECCOMP_RET_ERRNO | 38:   "errno(ENOSYS)",
		unix.SECCOMP_RET_TRACE | 7:    "trace(7)",
		unix.SECCOMP_RET_USER_NOTIF:   "user_notif",
		unix.SECCOMP_RET_LOG:          "log",
		unix.SECCOMP_RET_ALLOW:        "allow",
		0x12340000:                    "unknown(0x12340000)",
	} {
		if got := DecodeRet(ret).String(); got != want {
			t.Errorf("DecodeRet(%#x) = %s, want %s", ret, got, want)
		}
	}
	if a := DecodeRet(unix.SECCOMP_RET_ERRNO | 1); a.Errno == nil || *a.Errno != 1 || a.Allows() {
		t.Errorf("errno 1: %+v", a)
	}
}
