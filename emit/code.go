package emit

import (
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/learn"
)

// checkCodeProfile refuses profiles the generated sources cannot enforce:
// an architecture libseccomp does not know, or an action without a
// libseccomp equivalent.
func checkCodeProfile(p *learn.Profile) error {
	if _, err := p.Arch.ScmpArch(); err != nil {
		return err
	}
	if _, err := cDialect.action(p.DefaultAction); err != nil {
		return fmt.Errorf("default action: %w", err)
	}
	for _, s := range p.Syscalls {
		if _, err := abi.SyscallNumber(p.Arch, s.Name); err != nil {
			return err
		}
		if _, err := cDialect.action(s.Action); err != nil {
			return fmt.Errorf("syscall %s: %w", s.Name, err)
		}
	}
	return nil
}

// version returns opts.Version, or "(unknown version)".
func (opts Options) version() string {
	if opts.Version == "" {
		return "(unknown version)"
	}
	return opts.Version
}

// goPackage returns opts.GoPackage, or DefaultGoPackage.
func (opts Options) goPackage() string {
	if opts.GoPackage == "" {
		return DefaultGoPackage
	}
	return opts.GoPackage
}

// profileSummary is the header line that says what the profile is.
func profileSummary(p *learn.Profile) string {
	return fmt.Sprintf("Profile for %s, default action %s, %d syscall(s), learned from %d recording(s).",
		p.Arch, p.DefaultAction, len(p.Syscalls), p.Inputs)
}

// syscallComment says where entry s came from: its origin, how many of the
// profile's inputs made it, and the reason learning gives; each note
// follows on a line of its own.
func syscallComment(s learn.Syscall, inputs int) []string {
	origin := s.Origin
	if origin == "" {
		origin = "unknown origin"
	}
	head := fmt.Sprintf("%s: %s", s.Name, origin)
	if s.Seen > 0 {
		head += fmt.Sprintf(", seen in %d/%d recording(s)", s.Seen, inputs)
	}
	if s.Reason != "" {
		head += ": " + s.Reason
	}
	lines := []string{head}
	for _, n := range s.Notes {
		lines = append(lines, "note: "+n)
	}
	return lines
}

// oneLine makes s safe for a one-line comment in Go, YAML or a unit file:
// every run of white space, line breaks included (also those Go and
// Unicode count, such as U+2028), becomes one space, and other control
// characters are dropped.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && !unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// cComment makes s safe inside a one-line C comment: one line, no
// comment terminator, and no "/*" (which compilers warn about).
func cComment(s string) string {
	s = oneLine(s)
	for strings.Contains(s, "*/") || strings.Contains(s, "/*") {
		s = strings.ReplaceAll(s, "*/", "* /")
		s = strings.ReplaceAll(s, "/*", "/ *")
	}
	return s
}

// errnoComment names errno e, for example "ENOSYS".
func errnoComment(e uint16) string {
	if name := unix.ErrnoName(unix.Errno(e)); name != "" {
		return name
	}
	return fmt.Sprint(e)
}

// dialect is how a generated language spells the model: its actions and
// comparisons, and a condition on one argument.
type dialect struct {
	// actions maps action kinds to expressions; ActErrno's has a %d for
	// the errno and a %s for its name.
	actions map[learn.ActionKind]string
	ops     map[learn.Op]string
	// cond spells a comparison of argument arg.
	cond func(arg int, op string, operands []uint64) string
	// comment makes any text safe inside a one-line comment.
	comment func(string) string
}

// action is the expression of a.
func (d dialect) action(a learn.Action) (string, error) {
	f, ok := d.actions[a.Kind]
	if !ok {
		return "", fmt.Errorf("no libseccomp action for %s", a)
	}
	if a.Kind != learn.ActErrno {
		return f, nil
	}
	if a.Errno > 4095 {
		return "", fmt.Errorf("errno %d out of range", a.Errno)
	}
	return fmt.Sprintf(f, a.Errno, errnoComment(a.Errno)), nil
}

// conditions spells the matchers of r, in argument order.
func (d dialect) conditions(r learn.Rule) ([]string, error) {
	var out []string
	for i, m := range r {
		if m == nil {
			continue
		}
		op, operands, err := learn.Operands(m)
		if err != nil {
			return nil, fmt.Errorf("arg %d: %w", i, err)
		}
		out = append(out, d.cond(i, d.ops[op], operands))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("rule has no condition")
	}
	return out, nil
}

// cDialect is libseccomp's C API: SCMP_An_64 conditions (64-bit compares,
// as filter.NewFilter makes).
var cDialect = dialect{
	actions: map[learn.ActionKind]string{
		learn.ActAllow:       "SCMP_ACT_ALLOW",
		learn.ActLog:         "SCMP_ACT_LOG",
		learn.ActErrno:       "SCMP_ACT_ERRNO(%d /* %s */)",
		learn.ActTrap:        "SCMP_ACT_TRAP",
		learn.ActKillThread:  "SCMP_ACT_KILL_THREAD",
		learn.ActKillProcess: "SCMP_ACT_KILL_PROCESS",
	},
	ops: map[learn.Op]string{
		learn.OpEqual:        "SCMP_CMP_EQ",
		learn.OpNotEqual:     "SCMP_CMP_NE",
		learn.OpLess:         "SCMP_CMP_LT",
		learn.OpLessEqual:    "SCMP_CMP_LE",
		learn.OpGreater:      "SCMP_CMP_GT",
		learn.OpGreaterEqual: "SCMP_CMP_GE",
		learn.OpMaskedEqual:  "SCMP_CMP_MASKED_EQ",
	},
	cond: func(arg int, op string, operands []uint64) string {
		c := fmt.Sprintf("SCMP_A%d_64(%s", arg, op)
		for _, v := range operands {
			c += fmt.Sprintf(", %#xULL", v)
		}
		return c + ")"
	},
	comment: cComment,
}

// goDialect is libseccomp-golang: profgenCond literals.
var goDialect = dialect{
	actions: map[learn.ActionKind]string{
		learn.ActAllow:       "seccomp.ActAllow",
		learn.ActLog:         "seccomp.ActLog",
		learn.ActErrno:       "seccomp.ActErrno.SetReturnCode(%d /* %s */)",
		learn.ActTrap:        "seccomp.ActTrap",
		learn.ActKillThread:  "seccomp.ActKillThread",
		learn.ActKillProcess: "seccomp.ActKillProcess",
	},
	ops: map[learn.Op]string{
		learn.OpEqual:        "CompareEqual",
		learn.OpNotEqual:     "CompareNotEqual",
		learn.OpLess:         "CompareLess",
		learn.OpLessEqual:    "CompareLessOrEqual",
		learn.OpGreater:      "CompareGreater",
		learn.OpGreaterEqual: "CompareGreaterEqual",
		learn.OpMaskedEqual:  "CompareMaskedEqual",
	},
	cond: func(arg int, op string, operands []uint64) string {
		vals := make([]string, len(operands))
		for k, v := range operands {
			vals[k] = fmt.Sprintf("%#x", v)
		}
		return fmt.Sprintf("{%d, seccomp.%s, []uint64{%s}}", arg, op, strings.Join(vals, ", "))
	},
	comment: oneLine,
}
