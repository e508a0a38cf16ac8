// Package audit reads the kernel's seccomp audit records (type
// AUDIT_SECCOMP, 1326) from the audit netlink multicast group
// AUDIT_NLGRP_READLOG, as the log backend needs them.
//
// The multicast group receives a copy of every audit record the kernel
// emits, whether or not auditd runs and whether or not auditing is enabled
// for syscalls, so records of every process on the machine arrive: callers
// select the ones they want, through an Attributor (by audit session id,
// following new sessions or not, and by cgroup membership).
// Joining the group needs CAP_AUDIT_READ. Records are never scraped from
// the kernel log, which printk rate-limits to a few lines.
//
// What every consumer of the records (the log backend, live replay,
// monitor) needs is here once: the ABI a record's call was made through
// (Record.ABI, x32 included), the wait for a marker record (EmitMarker,
// Markers), after which every earlier record has been read, and which
// records are the workload's (Attributor).
//
// The package imports no project package outside internal/. Errors that
// mean the feature is unavailable (no CONFIG_AUDIT, no CAP_AUDIT_READ) are
// errs.Unsupported, matched by errors.Is(err, trace.ErrNotSupported), and
// name the fix.
package audit
