// Package learn turns recordings into a minimal seccomp allowlist.
//
// The model is small and independent of any output format: a Profile holds,
// per syscall, an action and a set of Rules. Rules for one syscall OR; the
// Matchers within one Rule AND, at most one per argument index, so the model
// means the same in every output, including runc's OCI translation (which
// turns two conditions on the same index into separate rules).
//
// FromRecording builds a Profile from observations: every syscall seen,
// argument values pinned where the recording captured them (enum-like
// values one rule each, flag-like values as an allowed-bits mask), plus a
// documented baseline and what the chosen container runtime needs.
// Merge and Copy combine profiles; Verdict evaluates one.
//
// ForArch and ForArches write a profile for other architectures (emit
// --arch): names carried over where the architecture has them, legacy
// calls replaced from one documented table (fills), captured argument
// values translated where the architectures number them differently
// (argspec.Table says how), in arch.go.
package learn
