package filter

import (
	"slices"

	"github.com/profgen/profgen/learn"
)

// LogBase builds the log backend's filter for a base profile (record
// --base): what base allows (argument rules included) is allowed silently,
// everything else, other ABIs too, is answered with SECCOMP_RET_LOG and so
// recorded. The base's own denials become logs as well, so that nothing is
// refused or killed while recording. It returns the program's bytes, as
// trace.LogOptions.Filter takes them.
func LogBase(base *learn.Profile) ([]byte, error) {
	p := base.Copy()
	p.DefaultAction = learn.Log
	p.Syscalls = slices.DeleteFunc(p.Syscalls, func(s learn.Syscall) bool { return s.Action != learn.Allow })
	f, err := NewFilter(p, CompileOptions{BadArch: &learn.Log})
	if err != nil {
		return nil, err
	}
	defer f.Release()
	return Program(f)
}
