package replay

import (
	"fmt"
	"strings"

	"github.com/profgen/profgen/filter"
	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/recording"
)

// Checker evaluates syscalls both in a profile's model and in the BPF
// program libseccomp compiles from it, and insists they agree.
type Checker struct {
	p    *learn.Profile
	vm   *filter.VM
	arch uint32
}

// NewChecker compiles p (with filter.CompileOptions{}) for the VM.
func NewChecker(p *learn.Profile) (*Checker, error) {
	prog, err := filter.Compile(p, filter.CompileOptions{})
	if err != nil {
		return nil, err
	}
	vm, err := filter.NewVM(prog)
	if err != nil {
		return nil, fmt.Errorf("compiled filter: %w", err)
	}
	arch, err := p.Arch.Audit()
	if err != nil {
		return nil, err
	}
	return &Checker{p: p, vm: vm, arch: arch}, nil
}

// VM returns the checker's compiled filter.
func (c *Checker) VM() *filter.VM { return c.vm }

// Check returns the action for the named syscall with args. An action of
// the compiled filter that differs from the model's is an error: it is a
// bug in profgen's compilation or in libseccomp, never in the workload.
func (c *Checker) Check(name string, args [6]uint64) (learn.Action, error) {
	nr, err := abi.SyscallNumber(c.p.Arch, name)
	if err != nil {
		return learn.Action{}, err
	}
	want := c.p.Verdict(name, args)
	got, err := c.vm.Verdict(filter.SeccompData{Nr: int32(nr), Arch: c.arch, Args: args})
	if err != nil {
		return learn.Action{}, fmt.Errorf("%s%s: %w", name, fmtArgs(args), err)
	}
	if got != want {
		return learn.Action{}, fmt.Errorf("%s%s: the compiled filter says %s but the profile model says %s (a bug in profgen or libseccomp)",
			name, fmtArgs(args), got, want)
	}
	return want, nil
}

// Static replays rec against p without running anything: every recorded
// syscall, with each recorded argument shape (captured arguments at their
// indices, the others zero), is run through p's compiled filter in a BPF
// VM and through the model. A syscall recorded without argument values is
// checked once with zero arguments. Calls the profile would not allow are
// the report's violations; a disagreement between filter and model is an
// error.
func Static(p *learn.Profile, rec *recording.Recording) (*Report, error) {
	if rec.Arch != string(p.Arch) {
		return nil, fmt.Errorf("static replay: the recording is for %s, the profile for %s", rec.Arch, p.Arch)
	}
	c, err := NewChecker(p)
	if err != nil {
		return nil, fmt.Errorf("static replay: %w", err)
	}
	rep := &Report{Mode: ModeStatic, Violations: []Violation{}, Lost: rec.Lost}
	var zeroArgs []string
	for _, s := range rec.Syscalls {
		events := s.Events()
		if !events[0].HasArgs {
			if e := p.Lookup(s.Name); e != nil && len(e.Rules) > 0 {
				zeroArgs = append(zeroArgs, s.Name)
			}
		}
		for _, ev := range events {
			act, err := c.Check(s.Name, ev.Args)
			if err != nil {
				return nil, fmt.Errorf("static replay: %w", err)
			}
			rep.Checked++
			if act.Kind == learn.ActAllow || act.Kind == learn.ActLog {
				continue
			}
			v := Violation{
				Syscall: s.Name, Number: s.Number, Args: ev.Args, HasArgs: ev.HasArgs,
				Action: actionName(act), Count: ev.Count,
			}
			if ev.HasArgs {
				v.Call = learn.CallText(p.Arch, s.Name, ev.Args)
			}
			rep.Violations = append(rep.Violations, v)
		}
	}
	if len(zeroArgs) > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("no argument values recorded for %s, which the profile allows only with some arguments: checked with all arguments 0",
			strings.Join(zeroArgs, ", ")))
	}
	return rep, nil
}

func fmtArgs(args [6]uint64) string {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = fmt.Sprintf("%#x", a)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}
