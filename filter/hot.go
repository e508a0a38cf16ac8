package filter

import (
	"fmt"

	seccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/learn"
)

// CompileHot builds p's filter like Compile, ordered for a recorded
// workload: the syscalls with argument rules come first, hottest first by
// counts (calls per syscall name, as a recording has them), then the
// others (learn.HotOrder). Only the argument-checked ones run the filter
// at all on a kernel with the constant-action cache (Linux 5.11+: a
// syscall allowed by name is decided from a bitmap, CacheAllows), so they
// are the ones whose position costs. The order is given to libseccomp as
// syscall priorities in its linear layout; the verdicts are those of
// Compile's filter for every input (FuzzHotMatchesPlain). With nil counts
// the argument-checked syscalls still come first, by name.
func CompileHot(p *learn.Profile, counts map[string]uint64, opts CompileOptions) ([]unix.SockFilter, error) {
	f, err := NewFilterHot(p, counts, opts)
	if err != nil {
		return nil, err
	}
	return export(f)
}

// NewFilterHot is NewFilter with CompileHot's order: libseccomp's linear
// layout, with the syscall priorities of learn.HotOrder for counts. The
// caller loads or exports it, and releases it.
func NewFilterHot(p *learn.Profile, counts map[string]uint64, opts CompileOptions) (*seccomp.ScmpFilter, error) {
	f, err := NewFilter(p, opts)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			f.Release()
		}
	}()
	if err := f.SetOptimize(1); err != nil { // linear: priorities apply
		return nil, fmt.Errorf("compile profile: set linear layout: %w", err)
	}
	for i, name := range learn.HotOrder(p, counts) {
		// As NewFilter adds the rules: the number libseccomp resolves
		// for the name (a pseudo number where the native architecture
		// lacks it), which it maps to each architecture of the filter.
		nr, err := seccomp.GetSyscallFromName(name)
		if err != nil {
			return nil, fmt.Errorf("compile profile: %w", err)
		}
		if err := f.SetSyscallPriority(seccomp.ScmpSyscall(nr), learn.HotPriority(i)); err != nil {
			return nil, fmt.Errorf("compile profile: priority of %s: %w", name, err)
		}
	}
	ok = true
	return f, nil
}
