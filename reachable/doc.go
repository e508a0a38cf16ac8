// Package reachable computes a static upper bound of the system calls a
// program can make: the syscall instructions of its executable, of the
// shared libraries the dynamic loader would map for it (DT_NEEDED,
// DT_RUNPATH/DT_RPATH with $ORIGIN, /etc/ld.so.conf and the default
// directories), of the loader itself (PT_INTERP) and of the vDSO, whose
// numbers the analysis determines from the constant that reaches eax/rax in
// the basic block before the instruction.
//
// Libraries are followed through their own call graph, derived from the
// binary on the machine: functions are the ranges of the symbol tables and of
// .eh_frame (present in stripped libraries), edges are direct calls and jumps,
// calls through the PLT and the GOT, addresses taken by code (lea) and
// function pointers stored in data (relocations), from the functions the
// program imports. The generic syscall(3) function (a function whose syscall
// number is its first argument) and Go's syscall.Syscall-like functions are
// resolved at their call sites. A number that cannot be determined is counted
// (Result.Undetermined), never guessed; what cannot be analysed at all
// becomes a one-line note.
//
// Analyses are cached by build-id (or file hash) under
// $XDG_CACHE_HOME/profgen/reachable. x86_64 only; docs/reachable.md says what
// aarch64 would need.
package reachable
