package learn

import (
	"fmt"
	"slices"

	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/recording"
)

// ArgsMode says whether learned rules pin argument values.
type ArgsMode string

// Argument modes.
const (
	ArgsShapes ArgsMode = "shapes"
	ArgsNone   ArgsMode = "none"
)

// ParseArgsMode returns the argument mode called s (shapes or none).
func ParseArgsMode(s string) (ArgsMode, error) {
	switch m := ArgsMode(s); m {
	case ArgsShapes, ArgsNone:
		return m, nil
	}
	return "", fmt.Errorf("unknown argument mode %q (want shapes or none)", s)
}

// DefaultMaxValues is how many distinct values one argument may take before
// learning stops pinning it: past it, the argument is more likely data than
// a flag or an enum, and the rules would bloat the filter.
const DefaultMaxValues = 32

// Options control FromRecording.
type Options struct {
	// Args is ArgsShapes (default) or ArgsNone.
	Args ArgsMode
	// MaxValues bounds the distinct values pinned for one argument;
	// 0 means DefaultMaxValues, a negative value is refused.
	MaxValues int
	// Runtime is the filter loader (the container runtime that loads the
	// filter): what it calls itself after loading it is added.
	Runtime Loader
	// NoNewPrivileges says the runtime will run the container with
	// no_new_privs (OCI process.noNewPrivileges, Kubernetes
	// allowPrivilegeEscalation: false, docker --security-opt
	// no-new-privileges): runc then loads the filter just before execve,
	// and only what it calls from there is added.
	NoNewPrivileges bool
	// DefaultAction for everything not allowed; the zero value is EPERM.
	DefaultAction *Action
}

// FromRecording learns a profile from rec.
func FromRecording(rec *recording.Recording, opts Options) (*Profile, error) {
	if opts.Args == "" {
		opts.Args = ArgsShapes
	}
	if _, err := ParseArgsMode(string(opts.Args)); err != nil {
		return nil, err
	}
	if opts.MaxValues < 0 {
		// n > -1 holds for every argument: all would be unpinned.
		return nil, fmt.Errorf("max values %d: must be at least 1 (0 means the default, %d)", opts.MaxValues, DefaultMaxValues)
	}
	if opts.MaxValues == 0 {
		opts.MaxValues = DefaultMaxValues
	}
	if opts.Runtime == "" {
		opts.Runtime = LoaderNone
	}
	if _, err := ParseLoader(string(opts.Runtime)); err != nil {
		return nil, err
	}
	arch := abi.Arch(rec.Arch)
	p := &Profile{Arch: arch, DefaultAction: ErrnoEPERM, Inputs: rec.Inputs, Command: slices.Clone(rec.Command)}
	if opts.DefaultAction != nil {
		p.DefaultAction = *opts.DefaultAction
	}
	if rec.Lost > 0 {
		p.Notes = append(p.Notes, fmt.Sprintf("the recording lost %d events: the profile may miss syscalls", rec.Lost))
	}
	for i := range rec.Syscalls {
		s := &rec.Syscalls[i]
		entry := Syscall{Name: s.Name, Action: Allow, Seen: s.Seen, Calls: s.Count, Origin: OriginRecorded}
		if opts.Args == ArgsShapes && rec.ArgShapes && !s.Unpinned && len(s.Args) > 0 {
			entry.Rules, entry.Notes = generalize(s, opts.MaxValues)
			var notes []string
			entry.Rules, notes = widenFamilies(arch, s.Name, entry.Rules)
			entry.Notes = append(entry.Notes, notes...)
		}
		if err := p.Add(entry); err != nil {
			return nil, err
		}
	}
	if err := addEnvClasses(p, opts.Args == ArgsNone); err != nil {
		return nil, err
	}
	if err := addFixed(p, opts); err != nil {
		return nil, err
	}
	return p, nil
}

// addFixed adds the baseline, the runtime's own syscalls and the ENOSYS
// stubs to p. Each must exist on p's architecture. With ArgsNone the
// runtime's calls are allowed whatever their arguments, like the rest.
func addFixed(p *Profile, opts Options) error {
	add := func(c fixedCall, origin Origin, reason string, act Action) error {
		if _, err := abi.SyscallNumber(p.Arch, c.name); err != nil {
			return nil // not on this architecture: nothing to allow
		}
		s := Syscall{Name: c.name, Action: act, Rules: c.rules, Origin: origin, Reason: reason}
		if opts.Args == ArgsNone {
			s.Rules = nil
		}
		return p.Add(s)
	}
	for _, c := range baseline {
		if err := add(c, OriginBaseline, c.reason, Allow); err != nil {
			return err
		}
	}
	reason := fmt.Sprintf("%s calls it after loading the filter", opts.Runtime)
	if opts.NoNewPrivileges {
		reason += " (with no_new_privs)"
	}
	for _, c := range runtimeCallsFor(opts.Runtime, opts.NoNewPrivileges) {
		if err := add(c, OriginRuntime, reason, Allow); err != nil {
			return err
		}
	}
	for _, s := range enosysStubs {
		if p.Lookup(s.name) != nil {
			continue
		}
		if err := add(s, OriginStub, s.reason, ErrnoENOSYS); err != nil {
			return err
		}
	}
	return nil
}
