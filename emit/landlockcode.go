package emit

import (
	"fmt"
	"strings"

	ll "github.com/profgen/profgen/internal/landlock"
	"github.com/profgen/profgen/landlock"
)

// viewLandlock is a Landlock ruleset as the c and go templates write it.
type viewLandlock struct {
	HandledFS, HandledNet, Scoped uint64
	Paths                         []viewLandlockPath
	Bind, Connect                 []uint64
	// ABI and Kernel are what enforces all of it; Older says, per older
	// ABI, what is not enforced there.
	ABI    int
	Kernel string
	Older  []string
}

type viewLandlockPath struct {
	Path   string
	Access uint64
	Rights string
}

// newViewLandlock turns r into its view.
func newViewLandlock(r *landlock.Ruleset) (*viewLandlock, error) {
	if _, err := r.Config(); err != nil { // validates it
		return nil, fmt.Errorf("landlock ruleset: %w", err)
	}
	k := r.Restriction(false)
	v := &viewLandlock{HandledFS: k.HandledFS, HandledNet: k.HandledNet, Scoped: k.Scoped, ABI: r.ABI()}
	for _, p := range k.Paths {
		v.Paths = append(v.Paths, viewLandlockPath{Path: p.Path, Access: p.Access, Rights: strings.Join(ll.Names(ll.Rights, p.Access), ",")})
	}
	v.Bind, v.Connect = r.Bind, r.Connect
	for abi := v.ABI - 1; abi >= 0; abi-- {
		_, notes := k.Downgrade(abi)
		if len(notes) > 0 {
			v.Older = append(v.Older, fmt.Sprintf("ABI %d: %s", abi, strings.Join(notes, "; ")))
		}
	}
	for _, t := range [][]ll.Right{ll.Rights, ll.NetRights, ll.Scopes} {
		for _, right := range t {
			if right.ABI == v.ABI {
				v.Kernel = right.Kernel
			}
		}
	}
	return v, nil
}
