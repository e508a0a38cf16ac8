package runc

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
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
		ses, err := NewThreadAuditSession()
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

// NewThreadAuditSession gives the calling OS thread a fresh audit session
// and returns its id. The caller must have locked the thread
// (runtime.LockOSThread) and must never unlock it, so that Go discards the
// thread when the goroutine ends (or, for the main thread, parks it for
// good; either way no other goroutine runs on it). The login uid is kept
// when set and set to 0 (root) when not.
func NewThreadAuditSession() (uint32, error) {
	uid, err := os.ReadFile("/proc/thread-self/loginuid")
	if err != nil {
		return 0, fmt.Errorf("new audit session: %w", err)
	}
	v := strings.TrimSpace(string(uid))
	if v == "4294967295" {
		v = "0"
	}
	if err := os.WriteFile("/proc/thread-self/loginuid", []byte(v), 0); err != nil {
		return 0, fmt.Errorf("new audit session: write loginuid (needs CAP_AUDIT_CONTROL once set, and loginuid_immutable off): %w", err)
	}
	return readSession("/proc/thread-self/sessionid")
}

func readSession(path string) (uint32, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("new audit session: %w", err)
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 32)
	if err != nil {
		return 0, fmt.Errorf("new audit session: parse %s: %w", path, err)
	}
	if uint32(v) == ^uint32(0) {
		return 0, fmt.Errorf("new audit session: session id still unset after setting the login uid")
	}
	return uint32(v), nil
}
