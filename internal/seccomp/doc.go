// Package seccomp handles seccomp filter programs as the kernel takes them,
// with no profile model and no libseccomp: raw struct sock_filter programs
// (DecodeFilter, EncodeFilter, ErrFilterTooLong), the filter that logs every
// call (LogAll), and loading a filter on the calling thread (Install, and
// Exec, which loads and execs in one C call).
//
// Compiling a profile into a filter is the job of package filter; this
// package is what the recorder (package trace) and the audit marker
// (internal/audit) need to install a program they were handed.
package seccomp
