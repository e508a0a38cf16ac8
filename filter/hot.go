package filter

import (
	"cmp"
	"fmt"
	"slices"

	seccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/abi"
	iseccomp "github.com/profgen/profgen/internal/seccomp"
	"github.com/profgen/profgen/learn"
)

// CompileHot builds p's filter like Compile, ordered for a recorded
// workload: the syscalls with argument rules come first, hottest first by
// counts (calls per syscall name, as a recording has them), then the
// others. Only the argument-checked ones run the filter at all on a
// kernel with the constant-action cache (Linux 5.11+: a syscall allowed by
// name is decided from a bitmap, CacheAllows), so they are the ones whose
// position costs. The order is given to libseccomp as syscall priorities
// in its linear layout; the verdicts are those of Compile's filter for
// every input (FuzzHotMatchesPlain).
func CompileHot(p *learn.Profile, counts map[string]uint64, opts CompileOptions) ([]unix.SockFilter, error) {
	f, err := NewFilter(p, opts)
	if err != nil {
		return nil, err
	}
	defer f.Release()
	if err := f.SetOptimize(1); err != nil { // linear: priorities apply
		return nil, fmt.Errorf("compile profile: set linear layout: %w", err)
	}
	type hot struct {
		nr    int
		rules bool
		count uint64
		name  string
	}
	var order []hot
	for _, s := range p.Syscalls {
		if s.Action == p.DefaultAction {
			continue
		}
		nr, err := abi.SyscallNumber(p.Arch, s.Name)
		if err != nil {
			return nil, fmt.Errorf("compile profile: %w", err)
		}
		order = append(order, hot{nr, len(s.Rules) > 0, counts[s.Name], s.Name})
	}
	slices.SortStableFunc(order, func(a, b hot) int {
		if a.rules != b.rules {
			if a.rules {
				return -1
			}
			return 1
		}
		if c := cmp.Compare(b.count, a.count); c != 0 {
			return c
		}
		return cmp.Compare(a.name, b.name)
	})
	for i, h := range order {
		prio := 0
		if i < 255 {
			prio = 255 - i
		}
		if err := f.SetSyscallPriority(seccomp.ScmpSyscall(h.nr), uint8(prio)); err != nil {
			return nil, fmt.Errorf("compile profile: priority of %s: %w", h.name, err)
		}
	}
	raw, err := Program(f)
	if err != nil {
		return nil, fmt.Errorf("compile profile: %w", err)
	}
	return iseccomp.DecodeFilter(raw)
}
