package main

import (
	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/filter"
	"github.com/profgen/profgen/learn"
)

// compileProfile is the project's one profile compiler as the emit
// formats that embed a compiled filter (bpf, go) take it: the program
// libseccomp builds for p, with other ABIs killing the process, ordered
// hot-first by the calls the recordings counted (filter.CompileHot with
// p's own counts; a profile read from a file has none, and its
// argument-checked syscalls come first by name). The verdicts are those
// of filter.Compile's program. It is the only place emit's compiler is
// named, so that it can move with the compiler.
func compileProfile(p *learn.Profile) ([]unix.SockFilter, error) {
	return filter.CompileHot(p, p.Counts(), filter.CompileOptions{})
}
