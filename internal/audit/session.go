package audit

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// unsetID is what /proc/*/loginuid and sessionid read before a login uid
// was ever set.
var unsetID = strconv.FormatUint(uint64(SessionUnset), 10)

// NewThreadSession gives the calling OS thread a fresh audit session id,
// which every process it starts inherits, and returns it. Records whose
// ses= field is that id are then known to come from those processes and
// nothing else on the machine.
//
// The session is per thread: the caller must have locked the goroutine to
// its thread (runtime.LockOSThread) and must never unlock it, so that Go
// discards the thread, with its new session, when the goroutine ends.
// The login uid is kept when one is set (which needs CAP_AUDIT_CONTROL and
// loginuid_immutable off) and set to the caller's uid when not (allowed to
// anyone).
func NewThreadSession() (uint32, error) {
	cur, err := os.ReadFile("/proc/thread-self/loginuid")
	if err != nil {
		return 0, fmt.Errorf("new audit session: read login uid (kernel without CONFIG_AUDITSYSCALL?): %w", err)
	}
	uid := strings.TrimSpace(string(cur))
	if uid == unsetID {
		uid = strconv.Itoa(os.Getuid())
	}
	if err := os.WriteFile("/proc/thread-self/loginuid", []byte(uid), 0); err != nil {
		return 0, fmt.Errorf("new audit session: set login uid (needs CAP_AUDIT_CONTROL once a login uid is set, and loginuid_immutable off): %w", err)
	}
	data, err := os.ReadFile("/proc/thread-self/sessionid")
	if err != nil {
		return 0, fmt.Errorf("new audit session: read session id: %w", err)
	}
	s := strings.TrimSpace(string(data))
	if s == unsetID {
		return 0, fmt.Errorf("new audit session: session id still unset after setting the login uid")
	}
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("new audit session: session id %q: %w", s, err)
	}
	return uint32(v), nil
}
