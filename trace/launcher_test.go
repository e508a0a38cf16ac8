package trace

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	seccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"

	iseccomp "github.com/profgen/profgen/internal/seccomp"
)

// Environment variables that make the test binary act as a helper process
// instead of running tests.
const (
	// noiseEnv: log N getppid calls and one personality under a LOG
	// filter of its own, outside any recording.
	noiseEnv = "PROFGEN_TEST_LOG_NOISE"
	// noCapEnv: drop CAP_AUDIT_READ and report what NewLog says.
	noCapEnv = "PROFGEN_TEST_NO_AUDIT_READ"
)

func TestMain(m *testing.M) {
	// The log backend re-executes the test binary as its launcher.
	MaybeLauncher()
	if v := os.Getenv(noiseEnv); v != "" {
		os.Exit(logNoise(v))
	}
	if os.Getenv(noCapEnv) != "" {
		os.Exit(newLogWithoutAuditRead())
	}
	if v := os.Getenv(killedRecorderEnv); v != "" {
		os.Exit(killedRecorder(v))
	}
	if v := os.Getenv(attachHelperEnv); v != "" {
		os.Exit(attachHelper(v))
	}
	if v := os.Getenv(forkOutEnv); v != "" {
		os.Exit(forkOut(v))
	}
	os.Exit(m.Run())
}

// logNoise loads, on its own thread, a filter that logs every call, then
// calls getppid n times and personality(0xffffffff) once.
func logNoise(v string) int {
	n, err := strconv.Atoi(v)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	runtime.LockOSThread()
	f, err := seccomp.NewFilter(seccomp.ActLog)
	if err == nil {
		err = f.Load()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "noise filter:", err)
		return 1
	}
	for i := 0; i < n; i++ {
		unix.Getppid()
	}
	unix.Syscall(unix.SYS_PERSONALITY, 0xffffffff, 0, 0)
	return 0
}

// newLogWithoutAuditRead drops CAP_AUDIT_READ from its thread and checks
// that NewLog fails with ErrNotSupported naming the capability. It prints
// the error and exits 0 only if it does.
func newLogWithoutAuditRead() int {
	runtime.LockOSThread() // capabilities are per thread
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		fmt.Println("capget:", err)
		return 1
	}
	bit := uint(unix.CAP_AUDIT_READ)
	data[bit/32].Effective &^= 1 << (bit % 32)
	data[bit/32].Permitted &^= 1 << (bit % 32)
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		fmt.Println("capset:", err)
		return 1
	}
	l, err := NewLog(LogOptions{})
	if err == nil {
		l.Close()
		fmt.Println("NewLog succeeded without CAP_AUDIT_READ")
		return 1
	}
	fmt.Println(err)
	if !errors.Is(err, ErrNotSupported) || !strings.Contains(err.Error(), "CAP_AUDIT_READ") {
		return 1
	}
	return 0
}

func TestDecodeFilter(t *testing.T) {
	prog, err := DefaultLogFilter()
	if err != nil {
		t.Fatal(err)
	}
	filters, err := iseccomp.DecodeFilter(prog)
	if err != nil {
		t.Fatal(err)
	}
	// The last instruction of a default-LOG filter returns SECCOMP_RET_LOG.
	last := filters[len(filters)-1]
	if last.Code != unix.BPF_RET|unix.BPF_K || last.K != unix.SECCOMP_RET_LOG {
		t.Errorf("last instruction %+v, want ret SECCOMP_RET_LOG", last)
	}
	for _, bad := range [][]byte{nil, make([]byte, 7), make([]byte, 8*(iseccomp.MaxFilterLen+1))} {
		if _, err := iseccomp.DecodeFilter(bad); err == nil {
			t.Errorf("decodeFilter accepted %d bytes", len(bad))
		}
	}
}

func TestLauncherStatus(t *testing.T) {
	br := bufio.NewReader(strings.NewReader("ses 12\nexec exec /x: no such file"))
	kind, msg, err := launcherStatus(br)
	if kind != launcherSes || msg != "12" || err != nil {
		t.Errorf("first line: %q %q %v", kind, msg, err)
	}
	kind, msg, err = launcherStatus(br)
	if kind != launcherExecError || msg != "exec /x: no such file" || err != nil {
		t.Errorf("unterminated line: %q %q %v", kind, msg, err)
	}
	if _, _, err := launcherStatus(br); err != io.EOF {
		t.Errorf("at end: %v, want io.EOF", err)
	}
}
