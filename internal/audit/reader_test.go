package audit

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"testing"
	"time"

	seccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/internal/testenv"
)

// childEnv makes the test binary act as a child that logs n getppid calls
// and then one getcpu call under a filter of its own.
const childEnv = "AUDIT_TEST_LOG_GETPPID"

func TestMain(m *testing.M) {
	if os.Getenv(landlockChildEnv) != "" {
		landlockChild() // execs, or exits
	}
	if v := os.Getenv(childEnv); v != "" {
		n, _ := strconv.Atoi(v)
		if err := logChild(n); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// logChild loads, on its own thread only, a filter that logs getppid and
// getcpu, then makes n getppid calls and one getcpu call.
func logChild(n int) error {
	runtime.LockOSThread()
	f, err := seccomp.NewFilter(seccomp.ActAllow)
	if err != nil {
		return err
	}
	for _, name := range []string{"getppid", "getcpu"} {
		sc, err := seccomp.GetSyscallFromName(name)
		if err != nil {
			return err
		}
		if err := f.AddRule(sc, seccomp.ActLog); err != nil {
			return err
		}
	}
	if err := f.Load(); err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		unix.Getppid()
	}
	unix.Syscall(unix.SYS_GETCPU, 0, 0, 0)
	return nil
}

func TestReaderReceivesChildRecords(t *testing.T) {
	const n = 20000
	getppid, getcpu := int64(testenv.SyscallNumber(t, "getppid")), int64(testenv.SyscallNumber(t, "getcpu"))
	r, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.RcvBuf() < DefaultRcvBuf {
		t.Errorf("receive buffer %d, want at least %d", r.RcvBuf(), DefaultRcvBuf)
	}
	native, _ := abi.Native()
	arch, _ := native.Audit()

	cmd := exec.Command("/proc/self/exe")
	cmd.Env = append(os.Environ(), childEnv+"="+strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	// A safety net, not a timing assertion: fail instead of hanging if the
	// end marker never arrives.
	timer := time.AfterFunc(60*time.Second, func() { r.Close() })
	defer timer.Stop()

	var got int
	for {
		rec, err := r.Next()
		if err != nil {
			t.Fatalf("after %d records: %v", got, err)
		}
		if rec.Pid != pid {
			continue
		}
		if rec.Arch != arch || rec.Compat || rec.Code != 0x7ffc0000 {
			t.Errorf("unexpected record %+v", rec)
		}
		if rec.Syscall == getcpu {
			break
		}
		if rec.Syscall != getppid {
			t.Fatalf("unexpected syscall in %+v", rec)
		}
		got++
	}
	if err := <-waitErr; err != nil {
		t.Fatalf("child: %v", err)
	}
	if got != n || r.Missed() != 0 || r.Overruns() != 0 || r.Malformed() != 0 {
		t.Errorf("received %d getppid records of %d, missed %d, overruns %d, malformed %d", got, n, r.Missed(), r.Overruns(), r.Malformed())
	}
}

func TestReaderClose(t *testing.T) {
	r, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		for {
			if _, err := r.Next(); err != nil {
				done <- err
				return
			}
		}
	}()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Errorf("Next after Close: %v, want ErrClosed", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
