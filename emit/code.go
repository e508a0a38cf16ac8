package emit

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/learn"
)

// CodeOptions adjust the C and Go sources WriteC and WriteGo generate.
type CodeOptions struct {
	// Version is profgen's version, named in the header comment.
	Version string
	// Log sets SECCOMP_FILTER_FLAG_LOG when the filter is loaded, so that
	// denied syscalls are logged to audit.
	Log bool
}

// checkCodeProfile refuses profiles the generated sources cannot enforce:
// an architecture libseccomp does not know, or an action without a
// libseccomp equivalent.
func checkCodeProfile(p *learn.Profile) error {
	if _, err := p.Arch.ScmpArch(); err != nil {
		return err
	}
	if _, err := cAction(p.DefaultAction); err != nil {
		return fmt.Errorf("default action: %w", err)
	}
	for _, s := range p.Syscalls {
		if _, err := abi.SyscallNumber(p.Arch, s.Name); err != nil {
			return err
		}
		if _, err := cAction(s.Action); err != nil {
			return fmt.Errorf("syscall %s: %w", s.Name, err)
		}
	}
	return nil
}

// version returns opts.Version, or "(unknown version)".
func (opts CodeOptions) version() string {
	if opts.Version == "" {
		return "(unknown version)"
	}
	return opts.Version
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

// oneLine makes s safe for a one-line comment.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// errnoComment names errno e, for example "ENOSYS".
func errnoComment(e uint16) string {
	if name := unix.ErrnoName(unix.Errno(e)); name != "" {
		return name
	}
	return fmt.Sprint(e)
}
