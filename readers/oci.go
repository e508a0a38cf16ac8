package readers

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/internal/fileio"
	"github.com/profgen/profgen/internal/jsonerr"
	"github.com/profgen/profgen/learn"
)

// ErrProfile marks a profile document that cannot be used.
var ErrProfile = errors.New("invalid profile")

// IncompleteField is the top-level field of an OCI profile that profgen
// emit --allow-incomplete writes (the profile was learned from recordings
// that lost events); its value says what was lost. Runtimes ignore it;
// ParseOCI turns it into a note.
const IncompleteField = "profgenIncomplete"

// ReadOCIFile reads an OCI seccomp profile into the model.
// path must be a regular file of at most fileio.MaxInput bytes, or "-" for
// standard input.
func ReadOCIFile(path string) (*learn.Profile, error) {
	data, err := fileio.ReadFile(path, 0, os.Stdin)
	if err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	p, err := ParseOCI(data)
	if err != nil {
		return nil, fmt.Errorf("profile %s: %w", path, err)
	}
	return p, nil
}

// ParseOCI decodes an OCI seccomp profile (a runtime-spec LinuxSeccomp
// document, as Docker and podman read) into the model, giving entries the
// meaning runc gives them: conditions of one entry AND, unless two of them
// test the same argument index, in which case runc adds each as a rule of
// its own (OR). Only the native architecture is kept; a profile that does
// not cover it is refused, and so is an unknown syscall, action or
// operator, and a condition no value satisfies (learn.CheckMatcher), each
// named with where it stands.
func ParseOCI(data []byte) (*learn.Profile, error) {
	arch, err := abi.Native()
	if err != nil {
		return nil, err
	}
	return ParseOCIArch(data, arch)
}

// ParseOCIArch is ParseOCI for architecture arch instead of the native
// one: the profile's entries for arch are kept, and a profile that does
// not cover arch is refused (explain judges a profile written for another
// machine this way).
func ParseOCIArch(data []byte, arch abi.Arch) (*learn.Profile, error) {
	var doc specs.LinuxSeccomp
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrProfile, jsonerr.Describe(data, err))
	}
	// Docker's profile format adds an archMap and conditional entries to
	// the runtime-spec document.
	var docker struct {
		ArchMap []struct {
			Architecture specs.Arch `json:"architecture"`
		} `json:"archMap"`
		Syscalls []struct {
			Includes, Excludes map[string]json.RawMessage
		} `json:"syscalls"`
		// Incomplete is IncompleteField.
		Incomplete *string `json:"profgenIncomplete"`
	}
	if err := json.Unmarshal(data, &docker); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrProfile, jsonerr.Describe(data, err))
	}
	if len(doc.Architectures) == 0 {
		for _, a := range docker.ArchMap {
			doc.Architectures = append(doc.Architectures, a.Architecture)
		}
	}
	if doc.DefaultAction == "" {
		return nil, fmt.Errorf("%w: no defaultAction (not a seccomp profile?)", ErrProfile)
	}
	if len(doc.Architectures) > 0 && !slices.Contains(doc.Architectures, specs.Arch(arch.OCI())) {
		what := arch.OCI()
		if native, err := abi.Native(); err == nil && native == arch {
			what = "the native " + what
		}
		return nil, fmt.Errorf("%w: architectures %v do not include %s", ErrProfile, doc.Architectures, what)
	}
	def, err := parseAction(doc.DefaultAction, doc.DefaultErrnoRet)
	if err != nil {
		return nil, fmt.Errorf("%w: defaultAction: %v", ErrProfile, err)
	}
	p := &learn.Profile{Arch: arch, DefaultAction: def, Inputs: 1}
	if docker.Incomplete != nil {
		p.Incomplete = true
		p.Notes = append(p.Notes, fmt.Sprintf("learned from recordings that lost events (%s %.200q)", IncompleteField, *docker.Incomplete))
	}
	b := learn.NewBuilder(p)
	var conditional, otherArch []string
	for i, e := range doc.Syscalls {
		where := fmt.Sprintf("syscalls[%d]", i)
		if d := docker.Syscalls[i]; len(d.Includes) > 0 || len(d.Excludes) > 0 {
			// Docker applies the entry only with some capabilities,
			// architectures or kernels. Left out: a profile read here
			// must not allow more than the runtime would.
			conditional = append(conditional, e.Names...)
			continue
		}
		act, err := parseAction(e.Action, e.ErrnoRet)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrProfile, where, err)
		}
		rules, err := parseArgs(e.Args)
		if err != nil {
			return nil, fmt.Errorf("%w: %s (%s): %w", ErrProfile, where, strings.Join(e.Names, " "), err)
		}
		if len(e.Names) == 0 {
			return nil, fmt.Errorf("%w: %s: no names", ErrProfile, where)
		}
		for j, name := range e.Names {
			if _, err := abi.SyscallNumber(arch, name); errors.Is(err, abi.ErrNotOnArch) {
				otherArch = append(otherArch, name) // runc ignores these too
				continue
			} else if err != nil {
				return nil, fmt.Errorf("%w: %s.names[%d]: %v", ErrProfile, where, j, err)
			}
			s := learn.Syscall{Name: name, Action: act, Rules: slices.Clone(rules), Origin: learn.OriginImported, Seen: 1}
			if err := b.Add(s); err != nil {
				return nil, fmt.Errorf("%w: %s: %v", ErrProfile, where, err)
			}
		}
	}
	b.Done()
	// An entry per condition may name a syscall several times (Docker's
	// clone, clone3, ptrace ...): each is named once.
	conditional, otherArch = uniq(conditional), uniq(otherArch)
	if len(conditional) > 0 {
		p.Notes = append(p.Notes, fmt.Sprintf("left out %d syscalls of entries with Docker includes/excludes (allowed only with some capabilities, architectures or kernels): %s", len(conditional), strings.Join(conditional, " ")))
	}
	if len(otherArch) > 0 {
		p.Notes = append(p.Notes, fmt.Sprintf("ignored %d syscalls that do not exist on %s: %s", len(otherArch), arch, strings.Join(otherArch, " ")))
	}
	return p, nil
}

func parseAction(a specs.LinuxSeccompAction, errnoRet *uint) (learn.Action, error) {
	switch a {
	case specs.ActAllow:
		return learn.Allow, nil
	case specs.ActLog:
		return learn.Log, nil
	case specs.ActErrno:
		e := uint(1) // runc's default: EPERM
		if errnoRet != nil {
			e = *errnoRet
		}
		if e > 4095 {
			return learn.Action{}, fmt.Errorf("errnoRet %d out of range", e)
		}
		return learn.Action{Kind: learn.ActErrno, Errno: uint16(e)}, nil
	case specs.ActTrap:
		return learn.Action{Kind: learn.ActTrap}, nil
	case specs.ActKillThread, specs.ActKill:
		return learn.Action{Kind: learn.ActKillThread}, nil
	case specs.ActKillProcess:
		return learn.KillProcess, nil
	}
	return learn.Action{}, fmt.Errorf("unsupported action %q", a)
}

func parseArgs(args []specs.LinuxSeccompArg) ([]learn.Rule, error) {
	if len(args) == 0 {
		return nil, nil
	}
	var ms []learn.Matcher
	count := map[uint]int{}
	for k, a := range args {
		if a.Index > 5 {
			return nil, fmt.Errorf("args[%d]: index %d is not 0..5", k, a.Index)
		}
		op, ok := ociOpOf(a.Op)
		if !ok {
			return nil, fmt.Errorf("args[%d]: unknown operator %q", k, a.Op)
		}
		operands := []uint64{a.Value}
		if op == learn.OpMaskedEqual {
			operands = append(operands, a.ValueTwo)
		}
		m, err := learn.NewMatcher(op, operands...)
		if err != nil {
			return nil, fmt.Errorf("args[%d]: %v", k, err)
		}
		if err := learn.CheckMatcher(m); err != nil {
			// A rule that can never match (or that libseccomp would
			// read otherwise than the model): refused, see
			// docs/arguments.md.
			return nil, fmt.Errorf("args[%d]: arg%d %w", k, a.Index, err)
		}
		ms = append(ms, m)
		count[a.Index]++
	}
	split := false
	for _, n := range count {
		split = split || n > 1
	}
	if split {
		// runc: "revert to old behavior", one rule per condition.
		rules := make([]learn.Rule, len(ms))
		for k, m := range ms {
			rules[k][args[k].Index] = m
		}
		return rules, nil
	}
	var r learn.Rule
	for k, m := range ms {
		r[args[k].Index] = m
	}
	return []learn.Rule{r}, nil
}

// uniq returns names without repeats, sorted.
func uniq(names []string) []string {
	return slices.Compact(slices.Sorted(slices.Values(names)))
}

// OCIOperators names the model's comparisons in the runtime-spec, for
// the OCI writer (emit) and ParseOCI.
var OCIOperators = map[learn.Op]specs.LinuxSeccompOperator{
	learn.OpEqual:        specs.OpEqualTo,
	learn.OpNotEqual:     specs.OpNotEqual,
	learn.OpLess:         specs.OpLessThan,
	learn.OpLessEqual:    specs.OpLessEqual,
	learn.OpGreater:      specs.OpGreaterThan,
	learn.OpGreaterEqual: specs.OpGreaterEqual,
	learn.OpMaskedEqual:  specs.OpMaskedEqual,
}

// ociOpOf is the inverse of OCIOperators.
func ociOpOf(name specs.LinuxSeccompOperator) (learn.Op, bool) {
	for op, n := range OCIOperators {
		if n == name {
			return op, true
		}
	}
	return 0, false
}
