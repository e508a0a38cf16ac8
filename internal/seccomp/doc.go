// Package seccomp handles seccomp filter programs as the kernel takes them,
// with no profile model and no libseccomp: raw struct sock_filter programs
// (DecodeFilter, EncodeFilter, ErrFilterTooLong), the filter that logs every
// call (LogAll), loading a filter on the calling thread (Install, and Exec,
// which loads and execs in one C call), the launcher's ordered list of
// restrictions applied before execve (Restriction, ExecRestricted; a
// seccomp Filter is one kind and comes last), the meaning of a filter's return
// value (DecodeRet), and reading the filters a running process carries
// (GetFilters, through PTRACE_SECCOMP_GET_FILTER).
//
// Compiling a profile into a filter is the job of package filter; this
// package is what the recorder (package trace), the audit marker
// (internal/audit) and profgen dump need to install or read a program.
package seccomp
