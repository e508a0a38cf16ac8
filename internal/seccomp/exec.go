package seccomp

/*
#include <errno.h>
#include <stdlib.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

// profgen_seccomp_exec sets no_new_privs, loads the filter on the calling
// thread and execs path, all in C: from the filter to the execve the
// thread makes no other syscall, whatever the Go runtime would do. It
// returns only on failure: -errno, with *step saying which call failed
// (1 prctl, 2 seccomp, 3 execve).
static int profgen_seccomp_exec(struct sock_filter *filter, unsigned short len, unsigned int flags,
		const char *path, char *const argv[], char *const envp[], int *step) {
	struct sock_fprog prog = { .len = len, .filter = filter };
	*step = 1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	*step = 2;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog))
		return -errno;
	*step = 3;
	execve(path, argv, envp);
	return -errno;
}
*/
import "C"

import (
	"fmt"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Exec loads filters on the calling (locked) thread with the
// seccomp(2) flags and execs path with argv and env. The load and the exec
// happen in one C call: a Go thread may otherwise make syscalls of the
// runtime's own between them (a futex, a signal return), which an enforced
// profile may deny, killing the launcher instead of starting the target.
// It returns only on failure, saying whether the exec itself failed (with
// the filter loaded: the thread runs under it) or a step before it.
func Exec(filters []unix.SockFilter, flags uint, path string, argv, env []string) (execFailed bool, err error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	cargv := cStrings(argv)
	defer freeStrings(cargv)
	cenv := cStrings(env)
	defer freeStrings(cenv)
	var step C.int
	rc := C.profgen_seccomp_exec((*C.struct_sock_filter)(unsafe.Pointer(&filters[0])), C.ushort(len(filters)), C.uint(flags),
		cpath, &cargv[0], &cenv[0], &step)
	errno := syscall.Errno(-rc)
	switch step {
	case 1:
		return false, fmt.Errorf("set no_new_privs: %w", errno)
	case 2:
		return false, fmt.Errorf("install seccomp filter: %w", errno)
	}
	return true, fmt.Errorf("exec %s: %w", path, errno)
}

// cStrings returns a NULL-terminated array of C copies of ss.
func cStrings(ss []string) []*C.char {
	out := make([]*C.char, len(ss)+1)
	for i, s := range ss {
		out[i] = C.CString(s)
	}
	return out
}

func freeStrings(cs []*C.char) {
	for _, c := range cs {
		C.free(unsafe.Pointer(c))
	}
}
