package runc

import (
	"os/exec"
	"runtime"

	"github.com/profgen/profgen/internal/audit"
)

// startInNewSession starts cmd in a fresh audit session, so that every
// audit record of its process tree (a container's processes included: the
// audit session survives fork, exec and namespaces) carries a session id
// (ses=) that nothing else on the machine has, and returns that id.
//
// Writing /proc/thread-self/loginuid gives the writing thread a new
// session id; a child forked from that thread inherits it. The thread is
// locked for the fork and never unlocked, so Go discards it afterwards and
// no other goroutine runs with the altered loginuid. Changing a loginuid
// that is already set needs CAP_AUDIT_CONTROL and fails when the kernel
// makes loginuid immutable (audit=... loginuid_immutable).
func startInNewSession(cmd *exec.Cmd, onSession func(uint32)) (uint32, error) {
	type result struct {
		ses uint32
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		// No UnlockOSThread: the thread ends with this goroutine.
		ses, err := audit.NewThreadSession()
		if err == nil && onSession != nil {
			onSession(ses)
		}
		if err == nil {
			err = cmd.Start()
		}
		done <- result{ses, err}
	}()
	r := <-done
	return r.ses, r.err
}
