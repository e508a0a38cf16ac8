package landlock

import (
	"errors"
	"fmt"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/errs"
)

// Ruleset is a Landlock ruleset as the kernel takes it: the handled
// rights (everything handled and not allowed by a rule is denied), the
// rules, and the scopes. It implements internal/seccomp's Restriction.
type Ruleset struct {
	HandledFS, HandledNet, Scoped uint64
	Paths                         []PathRule
	Ports                         []PortRule
	// Log asks the kernel to log denials of the programs the restricted
	// thread execs (LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON, ABI 7): the
	// audit records live replay reads. Without it only denials of the
	// launcher itself would be logged.
	Log bool
	// Warn, when not nil, receives a line for each rule left out because
	// its path does not exist.
	Warn func(string) `json:"-"`
}

// PathRule allows Access beneath Path (on Path itself when it is a file).
type PathRule struct {
	Path   string
	Access uint64
}

// PortRule allows Access (bind_tcp, connect_tcp) on a TCP port.
type PortRule struct {
	Port   uint64
	Access uint64
}

// netPortAttr is struct landlock_net_port_attr (packed, no padding).
type netPortAttr struct {
	Allowed uint64
	Port    uint64
}

// rulesetAttrSize is the size of struct landlock_ruleset_attr up to
// scoped (ABI 6), what this package sets.
const rulesetAttrSize = 24

// ruleNetPort is LANDLOCK_RULE_NET_PORT (linux/landlock.h), which
// golang.org/x/sys/unix does not define.
const ruleNetPort = 2

// ABI returns the Landlock ABI version of the running kernel, 0 when it
// has no Landlock (not built, or not in the lsm= list).
func ABI() int {
	v, _, e := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, 0, 0, unix.LANDLOCK_CREATE_RULESET_VERSION)
	if e != 0 {
		return 0
	}
	return int(v)
}

// Downgrade returns r with the rights and scopes that ABI version abi
// does not know left out, and one line per feature not enforced, naming
// the Linux release that has it. abi 0 (no Landlock) leaves nothing.
func (r Ruleset) Downgrade(abi int) (Ruleset, []string) {
	var notes []string
	if abi < 1 {
		if r.HandledFS|r.HandledNet|r.Scoped != 0 {
			notes = append(notes, "Landlock is not enforced: this kernel has no Landlock (Linux 5.13 and later have it, when lsm= lists landlock)")
		}
		return Ruleset{Log: r.Log, Warn: r.Warn}, notes
	}
	out := r
	drop := func(table []Right, bits *uint64, what string) {
		missing := map[string][]string{}
		var order []string
		for _, right := range table {
			if *bits&right.Bit != 0 && right.ABI > abi {
				key := fmt.Sprintf("Linux %s (Landlock ABI %d)", right.Kernel, right.ABI)
				if missing[key] == nil {
					order = append(order, key)
				}
				missing[key] = append(missing[key], right.Name)
				*bits &^= right.Bit
			}
		}
		for _, k := range order {
			notes = append(notes, fmt.Sprintf("Landlock %s %s not enforced: this kernel has Landlock ABI %d, %s has it",
				what, strings.Join(missing[k], ", "), abi, k))
		}
	}
	drop(Rights, &out.HandledFS, "filesystem right")
	drop(NetRights, &out.HandledNet, "TCP right")
	drop(Scopes, &out.Scoped, "scope")
	out.Paths = nil
	for _, p := range r.Paths {
		if a := p.Access & out.HandledFS; a != 0 {
			out.Paths = append(out.Paths, PathRule{p.Path, a})
		}
	}
	out.Ports = nil
	for _, p := range r.Ports {
		if a := p.Access & out.HandledNet; a != 0 {
			out.Ports = append(out.Ports, PortRule{p.Port, a})
		}
	}
	if abi < 7 && r.Log {
		notes = append(notes, fmt.Sprintf("Landlock denials are not logged: this kernel has Landlock ABI %d, Linux 6.15 (Landlock ABI 7) logs them to audit", abi))
		out.Log = false
	}
	return out, notes
}

// Name implements internal/seccomp's Restriction.
func (r *Ruleset) Name() string { return "landlock" }

// Apply implements internal/seccomp's Restriction: it creates the ruleset,
// adds its rules, sets no_new_privs and restricts the calling thread (the
// thread that execs the target, which inherits the domain). A right the
// kernel does not know is an error: call Downgrade first for best effort.
func (r *Ruleset) Apply() error {
	v, _, e := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, 0, 0, unix.LANDLOCK_CREATE_RULESET_VERSION)
	abi := int(v)
	// Landlock answers EOPNOTSUPP (not enabled) or ENOSYS (not built);
	// ENOSYS is also what runc's seccomp filter answers to syscalls
	// newer than any of its profile's, and another error a seccomp
	// filter's denial (the launcher in a container runs under the
	// container's profile).
	switch {
	case e == unix.EOPNOTSUPP:
		return &errs.Unsupported{Feature: "Landlock", Fix: "use Linux 5.13 or later with landlock in lsm=", Err: e}
	case e == unix.ENOSYS:
		return &errs.Unsupported{Feature: "Landlock", Fix: "use Linux 5.13 or later with landlock in lsm=, or allow landlock_create_ruleset in the seccomp profile (runc answers ENOSYS to the syscalls newer than a profile's)", Err: e}
	case e != 0:
		return fmt.Errorf("landlock_create_ruleset: %w (denied by a seccomp filter?)", e)
	}
	attr := unix.LandlockRulesetAttr{Handled_access_fs: r.HandledFS, Handled_access_net: r.HandledNet, Scoped: r.Scoped}
	fd, _, e := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, uintptr(unsafe.Pointer(&attr)), rulesetAttrSize, 0)
	if e != 0 {
		return fmt.Errorf("create ruleset: %w (kernel Landlock ABI %d)", e, abi)
	}
	defer unix.Close(int(fd))
	for _, p := range r.Paths {
		if err := addPath(int(fd), p, r.Warn); err != nil {
			return err
		}
	}
	for _, p := range r.Ports {
		a := netPortAttr{Allowed: p.Access, Port: p.Port}
		if _, _, e := unix.Syscall6(unix.SYS_LANDLOCK_ADD_RULE, fd, ruleNetPort, uintptr(unsafe.Pointer(&a)), 0, 0, 0); e != 0 {
			return fmt.Errorf("add rule for TCP port %d: %w", p.Port, e)
		}
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("set no_new_privs: %w", err)
	}
	var flags uintptr
	if r.Log {
		flags = unix.LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON
	}
	if _, _, e := unix.Syscall(unix.SYS_LANDLOCK_RESTRICT_SELF, fd, flags, 0); e != 0 {
		return fmt.Errorf("restrict self: %w", e)
	}
	return nil
}

// addPath adds one path rule, masked to the file rights when the path is
// not a directory (the kernel refuses directory rights on a file). A path
// that does not exist is left out, with a warning: nothing beneath it
// exists to be allowed.
func addPath(fd int, p PathRule, warn func(string)) error {
	pfd, err := unix.Open(p.Path, unix.O_PATH|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) {
		if warn != nil {
			warn(fmt.Sprintf("landlock: rule for %s left out: no such file or directory", p.Path))
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("add rule for %s: %w", p.Path, err)
	}
	defer unix.Close(pfd)
	var st unix.Stat_t
	if err := unix.Fstat(pfd, &st); err != nil {
		return fmt.Errorf("add rule for %s: %w", p.Path, err)
	}
	access := p.Access
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		access &= FileRights
	}
	if access == 0 {
		return nil
	}
	attr := unix.LandlockPathBeneathAttr{Allowed_access: access, Parent_fd: int32(pfd)}
	if _, _, e := unix.Syscall6(unix.SYS_LANDLOCK_ADD_RULE, uintptr(fd), unix.LANDLOCK_RULE_PATH_BENEATH, uintptr(unsafe.Pointer(&attr)), 0, 0, 0); e != 0 {
		return fmt.Errorf("add rule for %s (%s): %w", p.Path, strings.Join(Names(Rights, access), ","), e)
	}
	return nil
}
