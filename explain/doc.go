// Package explain judges a seccomp profile before it ships: what it
// allows, how that compares with the native syscall table and Docker's
// default profile, which well-known dangerous syscalls it still lets
// through, and which weaknesses it has.
//
// Everything is decided the same way for an OCI/Docker profile and for a
// raw BPF filter (a dump of what a process runs): the profile is compiled
// with libseccomp, and the filter is run in the classic-BPF VM of
// golang.org/x/net/bpf over every syscall number of every architecture
// libseccomp knows for this machine. So a profile and its compiled form
// explain alike.
package explain
