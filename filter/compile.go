package filter

import (
	"errors"
	"fmt"
	"math"
	"slices"

	seccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/abi"
	iseccomp "github.com/profgen/profgen/internal/seccomp"
	"github.com/profgen/profgen/learn"
)

// ErrFilterTooLong is matched (errors.Is) by the error of a profile whose
// filter is longer than the kernel's BPF_MAXINSNS instructions.
var ErrFilterTooLong = iseccomp.ErrFilterTooLong

// CompileOptions adjust the filter Compile and NewFilter build.
type CompileOptions struct {
	// BadArch is what the filter does with a syscall made through another
	// ABI than the profile's (i386 compat on amd64, x32 numbers). Nil
	// means kill the process: a profile learned on one ABI says nothing
	// about the others.
	BadArch *learn.Action
	// Log sets SECCOMP_FILTER_FLAG_LOG when the filter is loaded through
	// libseccomp, so that denials are logged to audit. It does not change
	// the exported program.
	Log bool
	// NoNewPrivs sets PR_SET_NO_NEW_PRIVS when the filter is loaded
	// through libseccomp. The default, false, leaves it to the caller.
	NoNewPrivs bool
	// Arches are architectures the filter admits besides the profile's
	// own, as runc adds those an OCI profile lists: libseccomp translates
	// every rule to each of them by name.
	Arches []abi.Arch
}

// NewFilter builds the libseccomp filter that enforces p: p's default
// action, p's architecture (and opts.Arches) only, and for each syscall
// one rule per learn.Rule with one condition per matcher (conditions of a
// rule AND, rules of a syscall OR, as in the model). Rules whose action is
// the default action are left out: they would change nothing, and
// libseccomp refuses them. p's architecture need not be the native one: a
// profile written for aarch64 (learn.ForArch) compiles into the filter an
// aarch64 kernel loads, checking AUDIT_ARCH_AARCH64 and aarch64's syscall
// numbers. The caller releases the filter.
func NewFilter(p *learn.Profile, opts CompileOptions) (*seccomp.ScmpFilter, error) {
	native, err := abi.Native()
	if err != nil {
		return nil, fmt.Errorf("compile profile: %w", err)
	}
	target, err := p.Arch.ScmpArch()
	if err != nil {
		return nil, fmt.Errorf("compile profile: %w", err)
	}
	def, err := scmpAction(p.DefaultAction)
	if err != nil {
		return nil, fmt.Errorf("compile profile: default action: %w", err)
	}
	badArch := learn.KillProcess
	if opts.BadArch != nil {
		badArch = *opts.BadArch
	}
	bad, err := scmpAction(badArch)
	if err != nil {
		return nil, fmt.Errorf("compile profile: bad-arch action: %w", err)
	}
	f, err := seccomp.NewFilter(def)
	if err != nil {
		return nil, fmt.Errorf("compile profile: new libseccomp filter: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			f.Release()
		}
	}()
	if err := f.SetBadArchAction(bad); err != nil {
		return nil, fmt.Errorf("compile profile: set bad-arch action: %w", err)
	}
	if p.Arch != native {
		// A new filter holds the native architecture: replace it by
		// the profile's.
		if err := f.AddArch(target); err != nil {
			return nil, fmt.Errorf("compile profile: add architecture %s: %w", p.Arch, err)
		}
		if !slices.Contains(opts.Arches, native) {
			sn, err := native.ScmpArch()
			if err != nil {
				return nil, fmt.Errorf("compile profile: %w", err)
			}
			if err := f.RemoveArch(sn); err != nil {
				return nil, fmt.Errorf("compile profile: remove architecture %s: %w", native, err)
			}
		}
	}
	for _, a := range opts.Arches {
		if a == p.Arch || a == native {
			continue // already in the filter
		}
		sa, err := a.ScmpArch()
		if err != nil {
			return nil, fmt.Errorf("compile profile: %w", err)
		}
		if err := f.AddArch(sa); err != nil {
			return nil, fmt.Errorf("compile profile: add architecture %s: %w", a, err)
		}
	}
	if err := f.SetNoNewPrivsBit(opts.NoNewPrivs); err != nil {
		return nil, fmt.Errorf("compile profile: set no_new_privs attribute: %w", err)
	}
	if opts.Log {
		if err := f.SetLogBit(true); err != nil {
			return nil, fmt.Errorf("compile profile: set log attribute: %w", err)
		}
	}
	for _, s := range p.Syscalls {
		if s.Action == p.DefaultAction {
			continue
		}
		if err := onSomeArch(s.Name, p.Arch, opts.Arches); err != nil {
			return nil, fmt.Errorf("compile profile: %w", err)
		}
		// libseccomp takes the native number (or its pseudo-number for
		// a name the native architecture lacks) and translates it by
		// name to each architecture of the filter.
		nr, err := seccomp.GetSyscallFromName(s.Name)
		if err != nil {
			return nil, fmt.Errorf("compile profile: syscall %s: %w", s.Name, err)
		}
		act, err := scmpAction(s.Action)
		if err != nil {
			return nil, fmt.Errorf("compile profile: syscall %s: %w", s.Name, err)
		}
		if len(s.Rules) == 0 {
			if err := f.AddRule(seccomp.ScmpSyscall(nr), act); err != nil {
				return nil, fmt.Errorf("compile profile: syscall %s: %w", s.Name, err)
			}
			continue
		}
		for _, r := range s.Rules {
			conds, err := scmpConditions(r)
			if err != nil {
				return nil, fmt.Errorf("compile profile: syscall %s: rule %s: %w", s.Name, r, err)
			}
			if err := f.AddRuleConditional(seccomp.ScmpSyscall(nr), act, conds); err != nil {
				return nil, fmt.Errorf("compile profile: syscall %s: rule %s: %w", s.Name, r, err)
			}
		}
	}
	ok = true
	return f, nil
}

// Compile builds p's filter with NewFilter and returns the classic-BPF
// program libseccomp generates for it, as loaded by seccomp(2).
func Compile(p *learn.Profile, opts CompileOptions) ([]unix.SockFilter, error) {
	f, err := NewFilter(p, opts)
	if err != nil {
		return nil, err
	}
	return export(f)
}

// export returns the classic-BPF program of f, which it releases.
func export(f *seccomp.ScmpFilter) ([]unix.SockFilter, error) {
	defer f.Release()
	raw, err := Program(f)
	if err != nil {
		return nil, fmt.Errorf("compile profile: %w", err)
	}
	return iseccomp.DecodeFilter(raw)
}

// scmpAction maps a model action to libseccomp's.
func scmpAction(a learn.Action) (seccomp.ScmpAction, error) {
	switch a.Kind {
	case learn.ActAllow:
		return seccomp.ActAllow, nil
	case learn.ActLog:
		return seccomp.ActLog, nil
	case learn.ActErrno:
		if a.Errno > math.MaxInt16 {
			return 0, fmt.Errorf("errno %d out of range", a.Errno)
		}
		return seccomp.ActErrno.SetReturnCode(int16(a.Errno)), nil
	case learn.ActTrap:
		return seccomp.ActTrap, nil
	case learn.ActKillThread:
		return seccomp.ActKillThread, nil
	case learn.ActKillProcess:
		return seccomp.ActKillProcess, nil
	}
	return 0, fmt.Errorf("no libseccomp action for %s", a)
}

// scmpConditions maps the matchers of r, in argument order, to libseccomp
// conditions.
func scmpConditions(r learn.Rule) ([]seccomp.ScmpCondition, error) {
	var conds []seccomp.ScmpCondition
	for i, m := range r {
		if m == nil {
			continue
		}
		op, operands, err := learn.Operands(m)
		if err != nil {
			return nil, fmt.Errorf("arg %d: %w", i, err)
		}
		c, err := seccomp.MakeCondition(uint(i), scmpOps[op], operands...)
		if err != nil {
			return nil, fmt.Errorf("arg %d: %w", i, err)
		}
		conds = append(conds, c)
	}
	if len(conds) == 0 {
		return nil, errors.New("rule has no condition")
	}
	return conds, nil
}

// scmpOps names the model's comparisons in libseccomp-golang.
var scmpOps = map[learn.Op]seccomp.ScmpCompareOp{
	learn.OpEqual:        seccomp.CompareEqual,
	learn.OpNotEqual:     seccomp.CompareNotEqual,
	learn.OpLess:         seccomp.CompareLess,
	learn.OpLessEqual:    seccomp.CompareLessOrEqual,
	learn.OpGreater:      seccomp.CompareGreater,
	learn.OpGreaterEqual: seccomp.CompareGreaterEqual,
	learn.OpMaskedEqual:  seccomp.CompareMaskedEqual,
}

// onSomeArch checks that the named syscall exists on arch or one of
// others: a profile for several architectures (learn.ForArches) may name
// a syscall that only some of them have, which libseccomp adds to those.
func onSomeArch(name string, arch abi.Arch, others []abi.Arch) error {
	_, err := abi.SyscallNumber(arch, name)
	for _, a := range others {
		if err == nil {
			break
		}
		if errors.Is(err, abi.ErrNotOnArch) {
			_, err = abi.SyscallNumber(a, name)
		}
	}
	return err
}
