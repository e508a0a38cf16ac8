package learn

import (
	"fmt"
	"slices"
	"strings"
)

// OriginReachable marks an entry added by Envelope: a syscall the program's
// code can make (profgen reachable) that the recordings never saw.
const OriginReachable Origin = "reachable"

// Envelope widens p to the envelope recorded ∪ (reachable − excluded):
// each syscall of reachable that p has no entry for is allowed whatever
// its arguments, with OriginReachable, unless except returns why it is
// left out (the dangerous ones, for emit --envelope reachable). Entries p
// has are kept as they are (recorded rules, ENOSYS stubs). It returns the
// syscalls added and those left out, and says so in a note of p.
func Envelope(p *Profile, reachable []string, except func(name string) string) (added, excluded []string) {
	b := NewBuilder(p)
	for _, name := range reachable {
		if p.Lookup(name) != nil || slices.Contains(added, name) {
			continue
		}
		if except != nil && except(name) != "" {
			excluded = append(excluded, name)
			continue
		}
		// A new unconditional entry of a name p lacks cannot conflict.
		_ = b.Add(Syscall{Name: name, Action: Allow, Origin: OriginReachable})
		added = append(added, name)
	}
	b.Done()
	note := fmt.Sprintf("envelope: %d syscall(s) the recorded executables can reach but the recordings never saw are allowed (origin %s)", len(added), OriginReachable)
	if len(excluded) > 0 {
		note += fmt.Sprintf("; left out as dangerous: %s", strings.Join(excluded, ", "))
	}
	p.Notes = append(p.Notes, note)
	return added, excluded
}
