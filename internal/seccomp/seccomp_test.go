package seccomp

import (
	"bytes"
	"errors"
	"os"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

func TestDecodeFilter(t *testing.T) {
	want := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 4},
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 1, Jf: 0, K: 0xc000003e},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_KILL_PROCESS},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW},
	}
	prog := EncodeFilter(want)
	if len(prog) != 8*len(want) {
		t.Fatalf("EncodeFilter: %d bytes for %d instructions", len(prog), len(want))
	}
	got, err := DecodeFilter(prog)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("decoded %d instructions, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("instruction %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if !bytes.Equal(EncodeFilter(got), prog) {
		t.Error("EncodeFilter(DecodeFilter(p)) != p")
	}
	for _, bad := range [][]byte{nil, make([]byte, 7), make([]byte, 8*(MaxFilterLen+1))} {
		if _, err := DecodeFilter(bad); err == nil {
			t.Errorf("DecodeFilter accepted %d bytes", len(bad))
		}
	}
	if _, err := DecodeFilter(make([]byte, 8*(MaxFilterLen+1))); !errors.Is(err, ErrFilterTooLong) {
		t.Errorf("too long: %v, want ErrFilterTooLong", err)
	}
}

func TestLogAll(t *testing.T) {
	f, err := DecodeFilter(LogAll())
	if err != nil {
		t.Fatal(err)
	}
	if len(f) != 1 || f[0].Code != unix.BPF_RET|unix.BPF_K || f[0].K != unix.SECCOMP_RET_LOG {
		t.Errorf("LogAll = %+v, want one ret SECCOMP_RET_LOG", f)
	}
}

// TestInstall loads an allow-everything filter on a thread of the test and
// reads the thread's seccomp mode back from the kernel.
func TestInstall(t *testing.T) {
	allow := []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW}}
	type result struct {
		status []byte
		err    error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the filtered thread is discarded
		if err := Install(allow, 0); err != nil {
			done <- result{err: err}
			return
		}
		st, err := os.ReadFile("/proc/thread-self/status")
		done <- result{st, err}
	}()
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if !bytes.Contains(r.status, []byte("\nSeccomp:\t2\n")) {
		t.Errorf("thread status has no Seccomp:\t2 (filter mode):\n%s", r.status)
	}
	if err := Install(nil, 0); err == nil {
		t.Error("Install accepted an empty program")
	}
}
