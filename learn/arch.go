package learn

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/profgen/profgen/argspec"
	"github.com/profgen/profgen/internal/abi"
)

// Writing a profile learned on one architecture for another (emit --arch,
// docs/formats.md). Syscall names and numbers come from libseccomp through
// internal/abi; what this file holds is the knowledge libseccomp does not
// have: which legacy syscall the generic ABI replaces by which (fills),
// and which captured argument values mean the same on every target
// architecture, which the argument table says (argspec.Table: Arch).

// targetArches are the architectures emit --arch writes profiles for, by
// the name it takes. Every argument's Arch in argspec.Table was checked
// for each of them: adding one means checking each again.
var targetArches = []struct {
	name string
	arch abi.Arch
}{
	{"x86_64", "amd64"},
	{"aarch64", "arm64"},
}

// TargetArches lists the names ParseArches takes, in order.
func TargetArches() []string {
	names := make([]string, len(targetArches))
	for i, t := range targetArches {
		names[i] = t.name
	}
	return names
}

// ArchName is the name emit --arch gives a ("x86_64", "aarch64"), or a's
// libseccomp name for other architectures.
func ArchName(a abi.Arch) string {
	for _, t := range targetArches {
		if t.arch == a {
			return t.name
		}
	}
	return string(a)
}

// ParseArches reads a comma-separated list of architectures ("x86_64,aarch64";
// libseccomp's "amd64" and "arm64" are taken too), without repetition.
func ParseArches(list string) ([]abi.Arch, error) {
	var out []abi.Arch
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		i := slices.IndexFunc(targetArches, func(t struct {
			name string
			arch abi.Arch
		}) bool {
			return t.name == name || string(t.arch) == name
		})
		if i < 0 {
			want := strings.Join(TargetArches(), ", ")
			if _, err := abi.Arch(strings.ToLower(name)).ScmpArch(); err == nil && name != "" {
				return nil, fmt.Errorf("architecture %q: libseccomp knows it, but profgen does not know its argument values (want %s)", name, want)
			}
			return nil, fmt.Errorf("unknown architecture %q (want %s)", name, want)
		}
		a := targetArches[i].arch
		if slices.Contains(out, a) {
			return nil, fmt.Errorf("architecture %q listed twice", name)
		}
		out = append(out, a)
	}
	return out, nil
}

// fill says which syscall of the generic ABI does what a legacy syscall
// did, for an architecture that lacks the legacy one (aarch64, riscv64 and
// every architecture that came after asm-generic/unistd.h dropped them).
// glibc, musl and the Go runtime make exactly these replacements there,
// so a program seen making From on x86_64 makes To on aarch64.
type fill struct {
	From, To string
	// Shift is how many argument slots To adds before From's
	// arguments: 1 for an *at call, whose dirfd (AT_FDCWD) comes first.
	Shift int
	// Why says what the library does.
	Why string
}

// fills is the one table of replacements. It lists only the well-known
// one-for-one replacements: a call whose replacement takes captured
// arguments From does not carry is not filled, since the replacement would
// be allowed by name: fork and vfork (clone with pinned flags), creat
// (openat with O_CREAT|O_WRONLY|O_TRUNC). Neither is one with no single
// replacement.
var fills = []fill{
	{"open", "openat", 1, "open(p, f, m) is openat(AT_FDCWD, p, f, m)"},
	{"stat", "newfstatat", 1, "stat(p, b) is fstatat(AT_FDCWD, p, b, 0)"},
	{"lstat", "newfstatat", 1, "lstat(p, b) is fstatat(AT_FDCWD, p, b, AT_SYMLINK_NOFOLLOW)"},
	{"access", "faccessat", 1, "access(p, m) is faccessat(AT_FDCWD, p, m)"},
	{"mkdir", "mkdirat", 1, "mkdir(p, m) is mkdirat(AT_FDCWD, p, m)"},
	{"mknod", "mknodat", 1, "mknod(p, m, d) is mknodat(AT_FDCWD, p, m, d)"},
	{"rmdir", "unlinkat", 1, "rmdir(p) is unlinkat(AT_FDCWD, p, AT_REMOVEDIR)"},
	{"unlink", "unlinkat", 1, "unlink(p) is unlinkat(AT_FDCWD, p, 0)"},
	{"rename", "renameat", 0, "rename(a, b) is renameat(AT_FDCWD, a, AT_FDCWD, b)"},
	{"link", "linkat", 0, "link(a, b) is linkat(AT_FDCWD, a, AT_FDCWD, b, 0)"},
	{"symlink", "symlinkat", 0, "symlink(a, b) is symlinkat(a, AT_FDCWD, b)"},
	{"readlink", "readlinkat", 1, "readlink(p, b, n) is readlinkat(AT_FDCWD, p, b, n)"},
	{"chmod", "fchmodat", 1, "chmod(p, m) is fchmodat(AT_FDCWD, p, m, 0)"},
	{"chown", "fchownat", 1, "chown(p, u, g) is fchownat(AT_FDCWD, p, u, g, 0)"},
	{"lchown", "fchownat", 1, "lchown(p, u, g) is fchownat(AT_FDCWD, p, u, g, AT_SYMLINK_NOFOLLOW)"},
	{"utimes", "utimensat", 1, "utimes(p, tv) is utimensat(AT_FDCWD, p, ts, 0)"},
	{"futimesat", "utimensat", 0, "futimesat(d, p, tv) is utimensat(d, p, ts, 0)"},
	{"utime", "utimensat", 1, "utime(p, t) is utimensat(AT_FDCWD, p, ts, 0)"},
	{"getdents", "getdents64", 0, "readdir uses getdents64 only"},
	{"pipe", "pipe2", 0, "pipe(fds) is pipe2(fds, 0)"},
	{"dup2", "dup3", 0, "dup2(a, b) is dup3(a, b, 0) (or fcntl when a == b)"},
	{"poll", "ppoll", 0, "poll is ppoll with a timespec and no mask"},
	{"select", "pselect6", 0, "select is pselect6 with a timespec and no mask"},
	{"epoll_wait", "epoll_pwait", 0, "epoll_wait(e, ev, n, t) is epoll_pwait(e, ev, n, t, NULL)"},
	{"epoll_create", "epoll_create1", 0, "epoll_create(n) is epoll_create1(0)"},
	{"inotify_init", "inotify_init1", 0, "inotify_init() is inotify_init1(0)"},
	{"eventfd", "eventfd2", 0, "eventfd(n) is eventfd2(n, 0)"},
	{"signalfd", "signalfd4", 0, "signalfd(f, m, s) is signalfd4(f, m, s, 0)"},
	{"getpgrp", "getpgid", 0, "getpgrp() is getpgid(0)"},
	{"alarm", "setitimer", 0, "alarm(s) is setitimer(ITIMER_REAL, ...)"},
	{"pause", "ppoll", 0, "pause() is ppoll(NULL, 0, NULL, NULL)"},
	{"time", "clock_gettime", 0, "time() is clock_gettime(CLOCK_REALTIME) (or the vDSO, no syscall)"},
}

// fillFor returns the replacement of the named syscall, or nil.
func fillFor(name string) *fill {
	i := slices.IndexFunc(fills, func(f fill) bool { return f.From == name })
	if i < 0 {
		return nil
	}
	return &fills[i]
}

// errCannotTranslate marks an argument condition with no meaning on the
// target architecture.
var errCannotTranslate = errors.New("cannot be carried over")

// translateValue carries the value of argument index of the named syscall
// from one architecture to another.
func translateValue(from, to abi.Arch, name string, index int, v uint64) (uint64, error) {
	a := argspec.Lookup(name, index)
	if a == nil {
		return 0, fmt.Errorf("arg%d of %s %w: profgen has not decided what its values mean on %s", index, name, errCannotTranslate, ArchName(to))
	}
	switch a.Arch {
	case argspec.Same:
		return v, nil
	case argspec.OpenFlags:
		return argspec.TranslateOpenFlags(from, to, v), nil
	}
	return 0, fmt.Errorf("arg%d of %s %w", index, name, errCannotTranslate)
}

// translateMatcher carries a condition on argument index of the named
// syscall over. Conditions on open flags carry over only as equalities
// (masked or not): an order (<, >) of permuted bits means nothing.
func translateMatcher(from, to abi.Arch, name string, index int, m Matcher) (Matcher, error) {
	a := argspec.Lookup(name, index)
	if a != nil && a.Arch == argspec.Same {
		return m, nil
	}
	tr := func(v uint64) (uint64, error) { return translateValue(from, to, name, index, v) }
	switch m := m.(type) {
	case Equal:
		v, err := tr(m.Value)
		return Equal{v}, err
	case NotEqual:
		v, err := tr(m.Value)
		return NotEqual{v}, err
	case MaskedEqual:
		mask, err := tr(m.Mask)
		if err != nil {
			return nil, err
		}
		v, err := tr(m.Value)
		return MaskedEqual{Mask: mask, Value: v}, err
	}
	if _, err := tr(0); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("arg%d of %s %s %w: an order of flag bits means nothing on %s", index, name, m, errCannotTranslate, ArchName(to))
}

// translateRule carries r, a rule of from's syscall name, over to the
// syscall to of the target architecture, moving each condition shift
// arguments right.
func translateRule(fromArch, toArch abi.Arch, from, to string, shift int, r Rule) (Rule, error) {
	var out Rule
	for i, m := range r {
		if m == nil {
			continue
		}
		j := i + shift
		if j > 5 {
			return Rule{}, fmt.Errorf("arg%d of %s %w: %s has no arg%d", i, from, errCannotTranslate, to, j)
		}
		// The meaning is the target syscall's: open's flags are
		// openat's.
		t, err := translateMatcher(fromArch, toArch, to, j, m)
		if err != nil {
			return Rule{}, err
		}
		out[j] = t
	}
	return out, nil
}

// ArchOptions control ForArch.
type ArchOptions struct {
	// Fill adds, for each syscall the target lacks, the one that
	// replaces it there (fills), with its rules; without it the
	// syscall is left out and a warning names the replacement.
	Fill bool
}

// ForArch returns p, learned on p.Arch, written for the architecture
// target: every syscall target has is carried over with its rules, each
// condition translated (argspec.Table's Arch); a syscall target lacks is left out, or
// with opts.Fill replaced as fills says. A rule that cannot be translated
// makes its syscall allowed by name. The returned warnings say each thing
// that is left out, replaced or allowed by name; they are in the result's
// Notes too.
func ForArch(p *Profile, target abi.Arch, opts ArchOptions) (*Profile, []string, error) {
	if _, err := target.ScmpArch(); err != nil {
		return nil, nil, err
	}
	if p.Arch == target {
		return p.Copy(), nil, nil
	}
	for _, a := range []abi.Arch{p.Arch, target} {
		if !slices.ContainsFunc(targetArches, func(t struct {
			name string
			arch abi.Arch
		}) bool {
			return t.arch == a
		}) {
			return nil, nil, fmt.Errorf("profile for %s: profgen knows the argument values of %s only", a, strings.Join(TargetArches(), " and "))
		}
	}
	tname := ArchName(target)
	out := &Profile{Arch: target, DefaultAction: p.DefaultAction, Inputs: p.Inputs,
		Notes: slices.Clone(p.Notes), Command: slices.Clone(p.Command)}
	var warnings []string
	warn := func(format string, args ...any) {
		w := fmt.Sprintf(format, args...)
		warnings = append(warnings, w)
		out.Notes = append(out.Notes, w)
	}
	b := NewBuilder(out)
	var missing []string
	for _, s := range p.Copy().Syscalls {
		name, shift := s.Name, 0
		if _, err := abi.SyscallNumber(target, s.Name); err != nil {
			if !errors.Is(err, abi.ErrNotOnArch) {
				return nil, nil, fmt.Errorf("syscall %s: %w", s.Name, err)
			}
			f := fillFor(s.Name)
			switch {
			case f == nil:
				missing = append(missing, s.Name)
				continue
			case !opts.Fill:
				warn("%s has no %s: left out; %s covers it there (%s): add it with --arch-fill", tname, s.Name, f.To, f.Why)
				continue
			}
			name, shift = f.To, f.Shift
			s.Notes = append(s.Notes, fmt.Sprintf("replaces %s, which %s does not have (%s)", f.From, tname, f.Why))
			with := ""
			if len(s.Rules) > 0 {
				with = fmt.Sprintf(", with %s's rules", f.From)
			}
			warn("%s has no %s: %s allowed instead%s (--arch-fill: %s)", tname, f.From, f.To, with, f.Why)
			if s.Origin != OriginRecorded {
				s.Reason = fmt.Sprintf("for %s (%s)", f.From, s.Reason)
			}
		}
		var rules []Rule
		for _, r := range s.Rules {
			t, err := translateRule(p.Arch, target, s.Name, name, shift, r)
			if err != nil {
				rules = nil
				warn("ALLOWED BY NAME on %s: %s, whatever its arguments: the rule %q %v", tname, name, r.String(), err)
				s.Notes = append(s.Notes, fmt.Sprintf("allowed by name on %s: a rule could not be carried over", tname))
				break
			}
			rules = append(rules, t)
		}
		if len(s.Rules) > 0 && len(rules) == 0 {
			s.Rules = nil
		} else {
			if len(rules) > 0 && slices.ContainsFunc(rules, func(r Rule) bool { return archArgTranslates(name, r) }) {
				s.Notes = append(s.Notes, fmt.Sprintf("argument values translated for %s", tname))
			}
			s.Rules = rules
		}
		s.Name = name
		if err := b.Add(s); err != nil {
			return nil, nil, fmt.Errorf("for %s: %w", tname, err)
		}
	}
	b.Done()
	if len(missing) > 0 {
		warn("%s has no %s, and no one call replaces it there: left out", tname, strings.Join(missing, ", "))
	}
	return out, warnings, nil
}

// archArgTranslates reports whether r conditions an argument of the named
// syscall whose values differ between architectures.
func archArgTranslates(name string, r Rule) bool {
	for i, m := range r {
		if a := argspec.Lookup(name, i); m != nil && a != nil && a.Arch != argspec.Same {
			return true
		}
	}
	return false
}

// ForArches writes p for each of targets (ForArch) and unites the results
// into one profile for targets[0] whose every rule applies on each target
// too, as an OCI document listing several architectures does: runc adds
// every entry to each architecture, by name, skipping the names one does
// not have. Where the targets' rules for a syscall differ (translated
// values), the union allows either on each: a warning says so.
func ForArches(p *Profile, targets []abi.Arch, opts ArchOptions) (*Profile, []string, error) {
	if len(targets) == 0 {
		return nil, nil, errors.New("no architecture given")
	}
	var per []*Profile
	var warnings []string
	for _, t := range targets {
		q, w, err := ForArch(p, t, opts)
		if err != nil {
			return nil, nil, err
		}
		per = append(per, q)
		warnings = append(warnings, w...)
	}
	out := per[0].Copy()
	out.Notes = slices.Clone(p.Notes)
	for _, w := range warnings {
		if !slices.Contains(out.Notes, w) {
			out.Notes = append(out.Notes, w)
		}
	}
	b := NewBuilder(out)
	var widened []string
	for _, q := range per[1:] {
		for _, s := range q.Syscalls {
			if cur := out.Lookup(s.Name); cur != nil {
				if ruleText(cur.Rules) != ruleText(s.Rules) && !slices.Contains(widened, s.Name) {
					widened = append(widened, s.Name)
				}
				s.Seen = 0
			}
			if err := b.Add(s); err != nil {
				return nil, nil, err
			}
		}
	}
	b.Done()
	var names []string
	for _, t := range targets {
		names = append(names, ArchName(t))
	}
	both := strings.Join(names, ", ")
	add := func(w string) {
		warnings = append(warnings, w)
		out.Notes = append(out.Notes, w)
	}
	if len(widened) > 0 {
		add(fmt.Sprintf("one document for %s: the rules of %s differ between them, and each architecture allows the rules of all (write one profile per architecture to keep each exact)",
			both, strings.Join(widened, ", ")))
	}
	// A name one architecture's profile has applies on every other that
	// has the syscall (runc adds each entry to each architecture).
	for i, t := range targets {
		var extra []string
		for _, s := range out.Syscalls {
			if per[i].Lookup(s.Name) != nil {
				continue
			}
			if _, err := abi.SyscallNumber(t, s.Name); err == nil {
				extra = append(extra, s.Name)
			}
		}
		if len(extra) > 0 {
			add(fmt.Sprintf("one document for %s: %s also allows %s, which only the profile for another architecture has (write one profile per architecture to keep each exact)",
				both, ArchName(t), strings.Join(extra, ", ")))
		}
	}
	return out, warnings, nil
}

func ruleText(rs []Rule) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.String()
	}
	slices.Sort(parts)
	return strings.Join(parts, " || ")
}

// TranslateCall says what the call name(args), made on architecture from,
// is on architecture to: the same name, or with fill its replacement (its
// arguments moved as fills says), with the captured argument values
// translated (argspec.Table; the others are copied). ok is false when to has
// no such call (and, with fill, no replacement). Replay uses it to check
// a profile for to against a recording made on from.
func TranslateCall(from, to abi.Arch, name string, args [6]uint64, fill bool) (string, [6]uint64, bool, error) {
	target, shift := name, 0
	if _, err := abi.SyscallNumber(to, name); err != nil {
		if !errors.Is(err, abi.ErrNotOnArch) {
			return "", args, false, err
		}
		f := fillFor(name)
		if f == nil || !fill {
			return "", args, false, nil
		}
		target, shift = f.To, f.Shift
	}
	var out [6]uint64
	for i := range args {
		j := i + shift
		if j > 5 {
			continue
		}
		v := args[i]
		if a := argspec.Lookup(target, j); a != nil && from != to {
			t, err := translateValue(from, to, target, j, v)
			if err != nil {
				return "", args, false, err
			}
			v = t
		}
		out[j] = v
	}
	return target, out, true, nil
}
