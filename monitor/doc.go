// Package monitor turns the kernel's seccomp audit records (type 1326,
// from the audit netlink multicast group, read by the project's audit
// reader) into a log of one JSON object a line: which process made which
// syscall, through which ABI, and what its filter did with it.
//
// Records of the whole machine arrive; a Filter keeps those of one
// process, command, executable, cgroup or container. Records the stream
// lost (receive-buffer overruns, gaps in the audit serial numbers) are
// counted and written as lines of their own, never dropped silently. What
// was seen can also be kept as a recording fragment (Fragment) that
// `profgen emit` and `profgen merge` read.
package monitor
