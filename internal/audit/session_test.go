package audit

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// TestNewThreadSession checks on a locked thread that a session can be made
// twice: when the login uid is unset (anyone may set it) and when it is set
// (CAP_AUDIT_CONTROL). The thread is then left to die with its goroutine.
func TestNewThreadSession(t *testing.T) {
	type result struct {
		a, b uint32
		err  error
	}
	ch := make(chan result)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread's session dies with it
		var r result
		if r.a, r.err = NewThreadSession(); r.err == nil {
			r.b, r.err = NewThreadSession()
		}
		ch <- r
	}()
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.a == r.b || r.a == ^uint32(0) {
		t.Errorf("sessions %d and %d, want two distinct ones", r.a, r.b)
	}
	own, err := os.ReadFile("/proc/thread-self/sessionid")
	if err != nil {
		t.Fatal(err)
	}
	if s := strings.TrimSpace(string(own)); s == strconv.FormatUint(uint64(r.a), 10) || s == strconv.FormatUint(uint64(r.b), 10) {
		t.Errorf("the session leaked to another thread: %s", s)
	}
}
