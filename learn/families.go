package learn

import (
	"fmt"
	"slices"
	"strings"

	"github.com/profgen/profgen/internal/abi"
)

// The requests' numbers in linux/asm-generic/ioctls.h, which x86, arm,
// arm64, riscv64 and s390x use (powerpc, mips and sparc number them
// otherwise: no family is applied there).
const (
	tcgets     = 0x5401
	tiocgpgrp  = 0x540f
	tiocgwinsz = 0x5413
	fionbio    = 0x5421
	fionclex   = 0x5450
	fioclex    = 0x5451
)

// genericIoctlArchs use the asm-generic ioctl numbers.
var genericIoctlArchs = []abi.Arch{"amd64", "x86", "x32", "arm", "arm64", "riscv64", "s390x", "s390"}

// ioctlFamily is a set of ioctl requests whose use depends on what a
// descriptor is (a terminal, a pipe, a file, a socket), so that a program
// seen using one of them in one environment uses another in the next: its
// standard streams are files on the host, pipes in a container, a terminal
// under docker run -t. Each member only reads a property of a descriptor
// the program holds or sets one of its per-descriptor flags. Requests that
// matter for security (TIOCSTI, which injects input into a terminal,
// TIOCSCTTY, TIOCSETD, TIOCLINUX, TIOCCONS ...) are in no family and are
// allowed only as recorded. docs/arguments.md gives the reasoning.
type ioctlFamily struct {
	name     string
	requests []uint64
	names    []string
}

// ioctlFamilies are the families learn widens to.
var ioctlFamilies = []ioctlFamily{
	{
		// isatty() is TCGETS: on a file or a pipe it fails (ENOTTY) and
		// the program stops there; on a terminal it goes on to ask the
		// window size and the foreground process group.
		name:     "terminal queries",
		requests: []uint64{tcgets, tiocgwinsz, tiocgpgrp},
		names:    []string{"TCGETS", "TIOCGWINSZ", "TIOCGPGRP"},
	},
	{
		// Event loops (libuv) set pipes and sockets non-blocking with
		// FIONBIO but leave files blocking, and mark descriptors
		// close-on-exec with FIOCLEX: which of them a run makes depends
		// on the descriptors it was given.
		name:     "descriptor flags",
		requests: []uint64{fionbio, fioclex, fionclex},
		names:    []string{"FIONBIO", "FIOCLEX", "FIONCLEX"},
	},
}

// ioctlRequestArg is the index of ioctl's request argument.
const ioctlRequestArg = 1

// widenFamilies adds to an ioctl's rules the other members of every family
// one of whose requests a rule pins, with the rule's other conditions, and
// says so in a note. Rules of other syscalls are returned as they are.
func widenFamilies(arch abi.Arch, name string, rules []Rule) ([]Rule, []string) {
	if name != "ioctl" || len(rules) == 0 || !slices.Contains(genericIoctlArchs, arch) {
		return rules, nil
	}
	out := slices.Clone(rules)
	has := func(r Rule) bool {
		return slices.ContainsFunc(out, func(o Rule) bool { return o.String() == r.String() })
	}
	var notes []string
	for _, fam := range ioctlFamilies {
		var seen, added []string
		for _, r := range rules {
			m, ok := r[ioctlRequestArg].(MaskedEqual)
			if !ok {
				continue
			}
			i := slices.IndexFunc(fam.requests, func(v uint64) bool { return v&m.Mask == m.Value })
			if i < 0 {
				continue
			}
			if !slices.Contains(seen, fam.names[i]) {
				seen = append(seen, fam.names[i])
			}
			for j, v := range fam.requests {
				w := r
				w[ioctlRequestArg] = MaskedEqual{Mask: m.Mask, Value: v & m.Mask}
				if !has(w) {
					out = append(out, w)
					if !slices.Contains(added, fam.names[j]) {
						added = append(added, fam.names[j])
					}
				}
			}
		}
		if len(added) > 0 {
			notes = append(notes, fmt.Sprintf("ioctl %s allowed with the recorded %s: the %s family depends on what a descriptor is (docs/arguments.md)",
				strings.Join(added, ", "), strings.Join(seen, ", "), fam.name))
		}
	}
	return normalizeRules(out), notes
}
