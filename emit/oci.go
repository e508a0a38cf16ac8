package emit

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/readers"
)

// OCIOptions adjust the OCI document.
type OCIOptions struct {
	// Flags are passed to seccomp(2) by the runtime, e.g.
	// SECCOMP_FILTER_FLAG_LOG to have denials logged to audit.
	Flags []specs.LinuxSeccompFlag
	// Arches are listed after the profile's own architecture: runc adds
	// each to the filter and every entry to each, by name. Compat ABIs
	// (i386 on x86_64, arm on aarch64, x32) are never listed: a profile
	// learned on the 64-bit ABI says nothing about them, and runc gives
	// a syscall made through an unlisted ABI the bad-arch action.
	Arches []abi.Arch
}

// OCI translates p into a runtime-spec LinuxSeccomp document. This is the
// one place where the model meets the OCI format: unconditional syscalls of
// one action share an entry; each Rule becomes an entry of its own whose
// args AND (the model never puts two conditions on one argument index, the
// case runc would split into separate rules).
func OCI(p *learn.Profile, opts OCIOptions) (*specs.LinuxSeccomp, error) {
	def, defErrno, err := ociAction(p.DefaultAction)
	if err != nil {
		return nil, fmt.Errorf("default action: %w", err)
	}
	out := &specs.LinuxSeccomp{
		DefaultAction:   def,
		DefaultErrnoRet: defErrno,
		Architectures:   []specs.Arch{specs.Arch(p.Arch.OCI())},
		Flags:           opts.Flags,
	}
	for _, a := range opts.Arches {
		if oa := specs.Arch(a.OCI()); !slices.Contains(out.Architectures, oa) {
			out.Architectures = append(out.Architectures, oa)
		}
	}
	// Unconditional entries, grouped by action in first-seen order.
	groups := map[learn.Action]int{}
	var conditional []specs.LinuxSyscall
	for _, s := range p.Syscalls {
		act, errno, err := ociAction(s.Action)
		if err != nil {
			return nil, fmt.Errorf("syscall %s: %w", s.Name, err)
		}
		if len(s.Rules) == 0 {
			i, ok := groups[s.Action]
			if !ok {
				i = len(out.Syscalls)
				groups[s.Action] = i
				out.Syscalls = append(out.Syscalls, specs.LinuxSyscall{Action: act, ErrnoRet: errno})
			}
			out.Syscalls[i].Names = append(out.Syscalls[i].Names, s.Name)
			continue
		}
		for _, r := range s.Rules {
			e := specs.LinuxSyscall{Names: []string{s.Name}, Action: act, ErrnoRet: errno}
			for idx, m := range r {
				if m == nil {
					continue
				}
				arg, err := ociArg(uint(idx), m)
				if err != nil {
					return nil, fmt.Errorf("syscall %s: %w", s.Name, err)
				}
				e.Args = append(e.Args, arg)
			}
			conditional = append(conditional, e)
		}
	}
	out.Syscalls = append(out.Syscalls, conditional...)
	return out, nil
}

func ociAction(a learn.Action) (specs.LinuxSeccompAction, *uint, error) {
	switch a.Kind {
	case learn.ActAllow:
		return specs.ActAllow, nil, nil
	case learn.ActLog:
		return specs.ActLog, nil, nil
	case learn.ActErrno:
		e := uint(a.Errno)
		return specs.ActErrno, &e, nil
	case learn.ActTrap:
		return specs.ActTrap, nil, nil
	case learn.ActKillThread:
		return specs.ActKillThread, nil, nil
	case learn.ActKillProcess:
		return specs.ActKillProcess, nil, nil
	}
	return "", nil, fmt.Errorf("no OCI action for %s", a)
}

func ociArg(idx uint, m learn.Matcher) (specs.LinuxSeccompArg, error) {
	op, operands, err := learn.Operands(m)
	if err != nil {
		return specs.LinuxSeccompArg{}, fmt.Errorf("arg %d: %w", idx, err)
	}
	// runtime-spec, like libseccomp: value, or for MASKED_EQ the mask in
	// value and the expected value in valueTwo.
	a := specs.LinuxSeccompArg{Index: idx, Op: readers.OCIOperators[op], Value: operands[0]}
	if len(operands) > 1 {
		a.ValueTwo = operands[1]
	}
	return a, nil
}

// WriteOCI writes doc as indented JSON.
func WriteOCI(w io.Writer, doc *specs.LinuxSeccomp) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// ArchNotesField is the top-level field of an OCI profile written for
// another architecture than the recording's (emit --arch) that lists what
// was left out, replaced or allowed by name there. Runtimes ignore it.
const ArchNotesField = "profgenArchNotes"
