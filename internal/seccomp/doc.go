// Package seccomp holds what profgen knows about seccomp filters without a
// profile model: the meaning of a filter's return value (DecodeRet) and
// reading the filters a running process carries (GetFilters, through
// PTRACE_SECCOMP_GET_FILTER).
package seccomp
