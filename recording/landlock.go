package recording

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"
)

// LandlockKind is the key of Landlock's section in Recording.Sections.
const LandlockKind = "landlock"

// LandlockRights are the filesystem access rights Landlock governs, by the
// names of Landlock's configuration format (landlock-lsm/landlockconfig's
// accessFs), in the order of their LANDLOCK_ACCESS_FS_* bits.
var LandlockRights = []string{
	"execute", "write_file", "read_file", "read_dir", "remove_dir", "remove_file",
	"make_char", "make_dir", "make_reg", "make_sock", "make_fifo", "make_block", "make_sym",
	"refer", "truncate", "ioctl_dev",
}

// File types of a LandlockAccess.
const (
	FileDir   = "dir"
	FileReg   = "file"
	FileOther = "other" // a device, socket, fifo or symlink
)

// Landlock is the section of the accesses Landlock governs that the
// target made: files and directories by path, TCP ports, and its uses of
// what Landlock scopes. Its JSON is the value of Sections["landlock"].
type Landlock struct {
	// Accesses lists each (path, right) the target used, sorted by path
	// then right.
	Accesses []LandlockAccess `json:"accesses"`
	// Unresolved lists accesses whose path could not be resolved (a file
	// already gone, a path longer than the recorder reads): counted, never
	// guessed.
	Unresolved []LandlockUnresolved `json:"unresolved,omitempty"`
	// TCPBind and TCPConnect are the TCP ports the target bound and
	// connected to, sorted by port.
	TCPBind    []LandlockPort `json:"tcpBind,omitempty"`
	TCPConnect []LandlockPort `json:"tcpConnect,omitempty"`
	// AbstractUnix counts connections to abstract UNIX sockets (Landlock's
	// LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET would refuse those to sockets
	// outside the domain).
	AbstractUnix uint64 `json:"abstractUnix,omitempty"`
	// SignalsOutside counts signals sent to processes outside the
	// target's tree (LANDLOCK_SCOPE_SIGNAL).
	SignalsOutside uint64 `json:"signalsOutside,omitempty"`
}

// LandlockAccess is one right used on one path.
type LandlockAccess struct {
	// Path is absolute and clean, as the kernel resolved it (in a
	// container, the container's path).
	Path string `json:"path"`
	// Right is one of LandlockRights.
	Right string `json:"right"`
	// Type is the file type of Path (FileDir, FileReg, FileOther), empty
	// when unknown (the access failed).
	Type string `json:"type,omitempty"`
	// OK counts the calls that succeeded; Failed those the kernel refused
	// for reasons of its own (ENOENT, EACCES ...).
	OK     uint64 `json:"ok"`
	Failed uint64 `json:"failed,omitempty"`
	// Seen is how many of the recording's inputs made this access.
	Seen int `json:"seen"`
	// Evidence says which programs made it, and in which phases; its
	// FirstInput is never set (a section's merge does not depend on the
	// order of its inputs).
	Evidence
}

// LandlockUnresolved counts accesses of a syscall whose path was not
// resolved, with why.
type LandlockUnresolved struct {
	Syscall string `json:"syscall"`
	Reason  string `json:"reason"`
	Count   uint64 `json:"count"`
}

// LandlockPort is one TCP port.
type LandlockPort struct {
	Port  uint16 `json:"port"`
	Count uint64 `json:"count"`
	Seen  int    `json:"seen"`
	Evidence
}

func init() {
	SectionKinds[LandlockKind] = SectionKind{
		Help:     "the files, directories and TCP ports the target used, as Landlock governs them",
		Validate: func(raw json.RawMessage) error { _, err := ParseLandlock(raw); return err },
		Merge:    mergeLandlock,
	}
}

// ParseLandlock decodes and validates a Landlock section.
func ParseLandlock(raw json.RawMessage) (*Landlock, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var l Landlock
	if err := dec.Decode(&l); err != nil {
		return nil, err
	}
	return &l, l.validate()
}

func (l *Landlock) validate() error {
	for i, a := range l.Accesses {
		where := fmt.Sprintf("accesses[%d] (%s %s)", i, a.Path, a.Right)
		if !path.IsAbs(a.Path) || path.Clean(a.Path) != a.Path {
			return fmt.Errorf("%s: path is not absolute and clean", where)
		}
		if !slices.Contains(LandlockRights, a.Right) {
			return fmt.Errorf("%s: unknown right (known: %s)", where, strings.Join(LandlockRights, ", "))
		}
		if a.Type != "" && a.Type != FileDir && a.Type != FileReg && a.Type != FileOther {
			return fmt.Errorf("%s: unknown type %q", where, a.Type)
		}
		if a.OK == 0 && a.Failed == 0 {
			return fmt.Errorf("%s: no call counted", where)
		}
		if a.Seen < 1 {
			return fmt.Errorf("%s: seen %d", where, a.Seen)
		}
		if i > 0 && !lessAccess(l.Accesses[i-1], a) {
			return fmt.Errorf("%s: not sorted by path and right, or duplicated", where)
		}
		if a.FirstInput != 0 {
			return fmt.Errorf("%s: firstInput is not kept in sections", where)
		}
		if err := a.Evidence.validate(addCount(a.OK, a.Failed), a.Seen); err != nil {
			return fmt.Errorf("%s: %v", where, err)
		}
	}
	for name, ports := range map[string][]LandlockPort{"tcpBind": l.TCPBind, "tcpConnect": l.TCPConnect} {
		for i, p := range ports {
			if i > 0 && ports[i-1].Port >= p.Port {
				return fmt.Errorf("%s[%d] (%d): not sorted or duplicated", name, i, p.Port)
			}
			if p.Seen < 1 || p.FirstInput != 0 {
				return fmt.Errorf("%s[%d] (%d): seen %d, firstInput %d", name, i, p.Port, p.Seen, p.FirstInput)
			}
			if err := p.Evidence.validate(p.Count, p.Seen); err != nil {
				return fmt.Errorf("%s[%d] (%d): %v", name, i, p.Port, err)
			}
		}
	}
	return nil
}

func lessAccess(a, b LandlockAccess) bool {
	if a.Path != b.Path {
		return a.Path < b.Path
	}
	return slices.Index(LandlockRights, a.Right) < slices.Index(LandlockRights, b.Right)
}

// Normalize sorts l's lists as validate wants them.
func (l *Landlock) Normalize() {
	slices.SortFunc(l.Accesses, func(a, b LandlockAccess) int {
		switch {
		case lessAccess(a, b):
			return -1
		case lessAccess(b, a):
			return 1
		}
		return 0
	})
	for _, ports := range [][]LandlockPort{l.TCPBind, l.TCPConnect} {
		slices.SortFunc(ports, func(a, b LandlockPort) int { return int(a.Port) - int(b.Port) })
	}
	slices.SortFunc(l.Unresolved, func(a, b LandlockUnresolved) int {
		return strings.Compare(a.Syscall+"\x00"+a.Reason, b.Syscall+"\x00"+b.Reason)
	})
}

// mergeLandlock unites Landlock sections: accesses and ports by key, with
// counts and Seen added and evidence merged; unresolved counts added.
func mergeLandlock(in []json.RawMessage) (json.RawMessage, error) {
	out := Landlock{}
	acc := map[[2]string]int{}
	ports := [2]map[uint16]int{{}, {}}
	unres := map[[2]string]int{}
	for i, raw := range in {
		if raw == nil {
			continue
		}
		l, err := ParseLandlock(raw)
		if err != nil {
			return nil, fmt.Errorf("input %d: %w", i+1, err)
		}
		for _, a := range l.Accesses {
			k := [2]string{a.Path, a.Right}
			j, ok := acc[k]
			if !ok {
				j = len(out.Accesses)
				acc[k] = j
				out.Accesses = append(out.Accesses, LandlockAccess{Path: a.Path, Right: a.Right})
			}
			m := &out.Accesses[j]
			if m.Type == "" || (a.Type != "" && a.Type < m.Type) {
				m.Type = a.Type
			}
			m.OK, m.Failed, m.Seen = addCount(m.OK, a.OK), addCount(m.Failed, a.Failed), addInt(m.Seen, a.Seen)
			e := a.Evidence
			e.FirstSeenMs = nil
			m.mergeEvidence(&e, 0)
		}
		for side, list := range [][]LandlockPort{l.TCPBind, l.TCPConnect} {
			dst := &out.TCPBind
			if side == 1 {
				dst = &out.TCPConnect
			}
			for _, p := range list {
				j, ok := ports[side][p.Port]
				if !ok {
					j = len(*dst)
					ports[side][p.Port] = j
					*dst = append(*dst, LandlockPort{Port: p.Port})
				}
				m := &(*dst)[j]
				m.Count, m.Seen = addCount(m.Count, p.Count), addInt(m.Seen, p.Seen)
				e := p.Evidence
				e.FirstSeenMs = nil
				m.mergeEvidence(&e, 0)
			}
		}
		for _, u := range l.Unresolved {
			k := [2]string{u.Syscall, u.Reason}
			j, ok := unres[k]
			if !ok {
				j = len(out.Unresolved)
				unres[k] = j
				out.Unresolved = append(out.Unresolved, LandlockUnresolved{Syscall: u.Syscall, Reason: u.Reason})
			}
			out.Unresolved[j].Count = addCount(out.Unresolved[j].Count, u.Count)
		}
		out.AbstractUnix = addCount(out.AbstractUnix, l.AbstractUnix)
		out.SignalsOutside = addCount(out.SignalsOutside, l.SignalsOutside)
	}
	out.Normalize()
	if out.Accesses == nil {
		out.Accesses = []LandlockAccess{}
	}
	return json.Marshal(&out)
}
