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
// thread makes no other syscall, whatever the Go runtime would do. Without
// a filter (NULL) it only execs. It returns only on failure: -errno, with
// *step saying which call failed (1 prctl, 2 seccomp, 3 execve).
static int profgen_seccomp_exec(struct sock_filter *filter, unsigned short len, unsigned int flags,
		const char *path, char *const argv[], char *const envp[], int *step) {
	struct sock_fprog prog = { .len = len, .filter = filter };
	if (filter) {
		*step = 1;
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
			return -errno;
		*step = 2;
		if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog))
			return -errno;
	}
	*step = 3;
	execve(path, argv, envp);
	return -errno;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
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
	if len(filters) == 0 {
		return false, errors.New("install seccomp filter: empty program")
	}
	return execFilter(&filters[0], len(filters), flags, path, argv, env)
}

// execFilter is Exec, or a plain execve when filter is nil.
func execFilter(filter *unix.SockFilter, n int, flags uint, path string, argv, env []string) (execFailed bool, err error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	cargv := cStrings(argv)
	defer freeStrings(cargv)
	cenv := cStrings(env)
	defer freeStrings(cenv)
	var step C.int
	rc := C.profgen_seccomp_exec((*C.struct_sock_filter)(unsafe.Pointer(filter)), C.ushort(n), C.uint(flags),
		cpath, &cargv[0], &cenv[0], &step)
	runtime.KeepAlive(filter)
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

// Restriction is one restriction a launcher puts on itself before it execs
// its target, which inherits it: a seccomp filter (Filter) today, a
// Landlock ruleset next. Apply restricts the calling thread (locked to
// its OS thread by the caller) or, for restrictions that are per process,
// the process; Name says in a word what it is, for errors.
type Restriction interface {
	Name() string
	Apply() error
}

// Filter is a seccomp filter as a launcher's restriction: the program and
// the seccomp(2) flags it is loaded with (never TSYNC: the launcher's
// thread only).
type Filter struct {
	Program []unix.SockFilter
	Flags   uint
}

// Name implements Restriction.
func (f *Filter) Name() string { return "seccomp" }

// Apply implements Restriction: it sets no_new_privs and loads the filter
// on the calling thread (Install). ExecRestricted loads a Filter that comes
// last in the same C call as the execve instead.
func (f *Filter) Apply() error { return Install(f.Program, f.Flags) }

// ExecRestricted applies restrictions in order on the calling (locked)
// thread, then execs path with argv and env, which inherits them. A Filter
// that comes last is loaded in the same C call as the execve (Exec), so
// that it judges no syscall of the Go runtime's, nor of another
// restriction's; a seccomp filter belongs last for that reason. It returns
// only on failure, saying whether the exec itself failed (with every
// restriction applied) or a step before it; the error of a restriction
// other than the last Filter is prefixed by its Name.
func ExecRestricted(restrictions []Restriction, path string, argv, env []string) (execFailed bool, err error) {
	rest := restrictions
	var last *Filter
	if n := len(rest); n > 0 {
		if f, ok := rest[n-1].(*Filter); ok {
			last, rest = f, rest[:n-1]
		}
	}
	for _, r := range rest {
		if err := r.Apply(); err != nil {
			return false, fmt.Errorf("%s: %w", r.Name(), err)
		}
	}
	if last != nil {
		return Exec(last.Program, last.Flags, path, argv, env)
	}
	return execFilter(nil, 0, 0, path, argv, env)
}
