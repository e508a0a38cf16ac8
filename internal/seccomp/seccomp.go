package seccomp

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// MaxFilterLen is the kernel's limit on instructions in one filter
// (BPF_MAXINSNS).
const MaxFilterLen = unix.BPF_MAXINSNS

// ErrFilterTooLong is returned (wrapped) for a filter longer than the
// kernel's BPF_MAXINSNS.
var ErrFilterTooLong = errors.New("filter too long")

// DecodeFilter checks and converts a raw struct sock_filter program, in
// native byte order, as libseccomp exports it and seccomp(2) loads it.
func DecodeFilter(prog []byte) ([]unix.SockFilter, error) {
	const size = int(unsafe.Sizeof(unix.SockFilter{}))
	if len(prog) == 0 || len(prog)%size != 0 {
		return nil, fmt.Errorf("seccomp filter: %d bytes is not a whole number of %d-byte instructions", len(prog), size)
	}
	n := len(prog) / size
	if n > MaxFilterLen {
		return nil, fmt.Errorf("seccomp filter: %w: %d instructions, more than the kernel's limit of %d", ErrFilterTooLong, n, MaxFilterLen)
	}
	filters := make([]unix.SockFilter, n)
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&filters[0])), len(prog)), prog)
	return filters, nil
}

// EncodeFilter is the inverse of DecodeFilter: filters as raw struct
// sock_filter bytes in native byte order.
func EncodeFilter(filters []unix.SockFilter) []byte {
	if len(filters) == 0 {
		return nil
	}
	size := len(filters) * int(unsafe.Sizeof(unix.SockFilter{}))
	return append([]byte(nil), unsafe.Slice((*byte)(unsafe.Pointer(&filters[0])), size)...)
}

// LogAll returns the program that answers every call, of every ABI, with
// SECCOMP_RET_LOG: what a libseccomp filter whose default and bad-arch
// actions are SCMP_ACT_LOG decides, in one instruction.
func LogAll() []byte {
	return EncodeFilter([]unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_LOG}})
}

// SetThreadName sets the calling thread's name (comm).
func SetThreadName(name string) error {
	p, err := unix.BytePtrFromString(name)
	if err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(p)), 0, 0, 0); err != nil {
		return fmt.Errorf("set thread name: %w", err)
	}
	return nil
}

// Install sets no_new_privs and loads filters on the calling thread only,
// with the seccomp(2) flags (never TSYNC). The caller locks the thread.
func Install(filters []unix.SockFilter, flags uint) error {
	if len(filters) == 0 {
		return errors.New("install seccomp filter: empty program")
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("set no_new_privs: %w", err)
	}
	fprog := unix.SockFprog{Len: uint16(len(filters)), Filter: &filters[0]}
	if _, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(flags), uintptr(unsafe.Pointer(&fprog))); e != 0 {
		return fmt.Errorf("install seccomp filter: %w", e)
	}
	runtime.KeepAlive(filters)
	return nil
}
