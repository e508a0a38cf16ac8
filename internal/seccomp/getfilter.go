package seccomp

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/errs"
)

// Errors of GetFilter, for errors.Is.
var (
	// ErrNoProcess: no process has the pid.
	ErrNoProcess = errors.New("no such process")
	// ErrNoFilter: the process runs no seccomp filter at that index.
	ErrNoFilter = errors.New("no seccomp filter")
	// ErrPermission: the caller lacks CAP_SYS_ADMIN, or runs under
	// seccomp itself.
	ErrPermission = errors.New("reading seccomp filters needs CAP_SYS_ADMIN")
)

// Status is the seccomp state of a process, from /proc/PID/status.
type Status struct {
	// Mode is 0 (none), 1 (strict) or 2 (filter).
	Mode int
	// Filters is the number of filters stacked on the process, -1 when
	// the kernel does not say (before Linux 5.9).
	Filters int
}

// ReadStatus reads the seccomp state of process pid.
func ReadStatus(pid int) (Status, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if errors.Is(err, os.ErrNotExist) {
		return Status{}, fmt.Errorf("process %d: %w", pid, ErrNoProcess)
	}
	if err != nil {
		return Status{}, fmt.Errorf("process %d: %w", pid, err)
	}
	defer f.Close()
	st := Status{Mode: -1, Filters: -1}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		switch k {
		case "Seccomp":
			if err == nil {
				st.Mode = n
			}
		case "Seccomp_filters":
			if err == nil {
				st.Filters = n
			}
		}
	}
	if err := sc.Err(); err != nil {
		return Status{}, fmt.Errorf("process %d: read status: %w", pid, err)
	}
	if st.Mode < 0 {
		return Status{}, fmt.Errorf("process %d: no Seccomp line in /proc/%d/status (kernel without seccomp?)", pid, pid)
	}
	return st, nil
}

// hasSysAdmin reports whether the calling thread has CAP_SYS_ADMIN in its
// effective set.
func hasSysAdmin() bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return false
	}
	return data[unix.CAP_SYS_ADMIN/32].Effective&(1<<(unix.CAP_SYS_ADMIN%32)) != 0
}

// GetFilter returns the seccomp filter at index of process or thread pid,
// as the kernel holds it. The kernel counts from the first filter
// installed: index 0 is the oldest, Status.Filters-1 the most recent (the
// one that runs first), whatever ptrace(2) says. Through
// PTRACE_SECCOMP_GET_FILTER: it seizes the process (PTRACE_SEIZE,
// PTRACE_INTERRUPT: no signal is sent), reads the filter and detaches; the
// process goes on as before. The caller needs
// CAP_SYS_ADMIN and must not run under seccomp itself.
func GetFilter(pid, index int) ([]unix.SockFilter, error) {
	if pid <= 0 {
		return nil, fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
	}
	if index < 0 {
		return nil, fmt.Errorf("process %d: filter index %d: must be 0 or more", pid, index)
	}
	st, err := ReadStatus(pid)
	if err != nil {
		return nil, err
	}
	self, err := ReadStatus(os.Getpid())
	if err == nil && self.Mode != 0 {
		return nil, fmt.Errorf("process %d: %w, and profgen must not run under seccomp itself (it runs in mode %d)", pid, ErrPermission, self.Mode)
	}
	if !hasSysAdmin() {
		return nil, fmt.Errorf("process %d: %w (run as root)", pid, ErrPermission)
	}
	switch {
	case st.Mode == 0:
		return nil, fmt.Errorf("process %d: %w: it runs without seccomp (Seccomp: 0 in /proc/%d/status)", pid, ErrNoFilter, pid)
	case st.Mode == 1:
		return nil, fmt.Errorf("process %d: %w: it runs in strict seccomp mode, which has no filter", pid, ErrNoFilter)
	case st.Filters >= 0 && index >= st.Filters:
		return nil, fmt.Errorf("process %d: %w at index %d: it has %d (index 0 is the first installed)", pid, ErrNoFilter, index, st.Filters)
	}

	// ptrace requests must come from the thread that attached.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := unix.PtraceSeize(pid); err != nil {
		switch {
		case errors.Is(err, unix.ESRCH):
			return nil, fmt.Errorf("process %d: %w", pid, ErrNoProcess)
		case errors.Is(err, unix.EPERM):
			return nil, fmt.Errorf("process %d: attach: %w (a tracer is attached already, or the process is protected)", pid, err)
		}
		return nil, fmt.Errorf("process %d: attach: %w", pid, err)
	}
	// A signal may arrive just before the interrupt: the stop reported
	// is then its signal-delivery stop, and the signal is handed back on
	// detach, not swallowed.
	var resend unix.Signal
	defer func() {
		unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_DETACH, uintptr(pid), 0, uintptr(resend), 0, 0)
	}()
	if err := unix.PtraceInterrupt(pid); err != nil {
		return nil, fmt.Errorf("process %d: interrupt: %w", pid, err)
	}
	var ws unix.WaitStatus
	if _, err := unix.Wait4(pid, &ws, unix.WALL, nil); err != nil {
		return nil, fmt.Errorf("process %d: wait for the ptrace stop: %w", pid, err)
	}
	if ws.Exited() || ws.Signaled() {
		return nil, fmt.Errorf("process %d: %w: it exited", pid, ErrNoProcess)
	}
	if event := uint32(ws) >> 16 & 0xff; ws.Stopped() && event != unix.PTRACE_EVENT_STOP {
		resend = ws.StopSignal()
	}
	n, err := getFilter(pid, index, nil)
	if err != nil {
		return nil, getFilterError(pid, index, err)
	}
	if n == 0 {
		return nil, fmt.Errorf("process %d: filter %d is empty", pid, index)
	}
	prog := make([]unix.SockFilter, n)
	m, err := getFilter(pid, index, prog)
	if err != nil {
		return nil, getFilterError(pid, index, err)
	}
	return prog[:m], nil
}

// getFilter issues PTRACE_SECCOMP_GET_FILTER: with buf nil it returns the
// filter's length, else it fills buf.
func getFilter(pid, index int, buf []unix.SockFilter) (int, error) {
	var p unsafe.Pointer
	if len(buf) > 0 {
		p = unsafe.Pointer(&buf[0])
	}
	r, _, e := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_SECCOMP_GET_FILTER, uintptr(pid), uintptr(index), uintptr(p), 0, 0)
	runtime.KeepAlive(buf)
	if e != 0 {
		return 0, e
	}
	if len(buf) > 0 && int(r) > len(buf) {
		return 0, fmt.Errorf("filter grew from %d to %d instructions", len(buf), r)
	}
	return int(r), nil
}

func getFilterError(pid, index int, err error) error {
	switch {
	case errors.Is(err, unix.ENOENT):
		return fmt.Errorf("process %d: %w at index %d", pid, ErrNoFilter, index)
	case errors.Is(err, unix.EINVAL):
		// GetFilter saw the process in filter mode, and a mode never
		// goes back: EINVAL is the kernel without the request
		// (seccomp_get_filter's stub when CONFIG_CHECKPOINT_RESTORE is off).
		return &errs.Unsupported{
			Op:      fmt.Sprintf("process %d: read filter %d back", pid, index),
			Feature: "PTRACE_SECCOMP_GET_FILTER (a kernel built without CONFIG_CHECKPOINT_RESTORE)",
			Fix:     "run a kernel built with CONFIG_CHECKPOINT_RESTORE=y, as Debian's are",
			Err:     err,
		}
	case errors.Is(err, unix.EACCES):
		return fmt.Errorf("process %d: %w: %v", pid, ErrPermission, err)
	case errors.Is(err, unix.EMEDIUMTYPE):
		return fmt.Errorf("process %d: filter %d cannot be read back (kernel without CONFIG_CHECKPOINT_RESTORE?): %w", pid, index, err)
	}
	return fmt.Errorf("process %d: PTRACE_SECCOMP_GET_FILTER: %w", pid, err)
}

// Bytes returns prog as the kernel holds it: struct sock_filter, 8 bytes
// an instruction, in native byte order.
func Bytes(prog []unix.SockFilter) []byte {
	if len(prog) == 0 {
		return nil
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(&prog[0])), len(prog)*int(unsafe.Sizeof(prog[0])))
	out := make([]byte, len(b))
	copy(out, b)
	return out
}
