package landlock

import (
	"fmt"
	"path"
	"slices"
	"strings"

	ll "github.com/profgen/profgen/internal/landlock"
)

// Ruleset is a Landlock policy: everything of the handled rights that no
// rule allows is denied.
type Ruleset struct {
	// HandledFS, HandledNet and Scoped are the handled filesystem rights,
	// TCP rights and scopes, by their names in internal/landlock's tables.
	HandledFS  []string
	HandledNet []string
	Scoped     []string
	// Rules allow rights beneath a path (on the path itself when it is a
	// file), sorted by path.
	Rules []Rule
	// Bind and Connect are the TCP ports allowed, sorted.
	Bind, Connect []uint64
	// Notes say what a reviewer should know of how the ruleset was
	// learned (a hierarchy granted because many entries were read, a
	// created directory granted on its parent, probes not granted). They
	// are not part of the configuration file.
	Notes []string
}

// Rule allows Rights beneath Path.
type Rule struct {
	Path   string
	Rights []string
	// Why says which rule of generalisation made it; empty for rules read
	// from a file.
	Why string `json:",omitempty"`
}

// Bits returns r's handled rights, scopes and rule rights as bits.
func (r *Ruleset) bits(names []string, table []ll.Right) uint64 {
	b, _ := ll.Bits(table, names) // names were validated when r was made
	return b
}

// Restriction returns r as the bits and paths the launcher applies, with
// denials logged to audit when log is set (live replay).
func (r *Ruleset) Restriction(log bool) *ll.Ruleset {
	out := &ll.Ruleset{
		HandledFS:  r.bits(r.HandledFS, ll.Rights),
		HandledNet: r.bits(r.HandledNet, ll.NetRights),
		Scoped:     r.bits(r.Scoped, ll.Scopes),
		Log:        log,
	}
	for _, rule := range r.Rules {
		out.Paths = append(out.Paths, ll.PathRule{Path: rule.Path, Access: r.bits(rule.Rights, ll.Rights)})
	}
	for _, p := range r.Bind {
		out.Ports = append(out.Ports, ll.PortRule{Port: p, Access: r.bits([]string{"bind_tcp"}, ll.NetRights)})
	}
	for _, p := range r.Connect {
		i := slices.IndexFunc(out.Ports, func(q ll.PortRule) bool { return q.Port == p })
		c := r.bits([]string{"connect_tcp"}, ll.NetRights)
		if i >= 0 {
			out.Ports[i].Access |= c
		} else {
			out.Ports = append(out.Ports, ll.PortRule{Port: p, Access: c})
		}
	}
	return out
}

// Allows reports whether r allows right on p (absolute and clean): true
// when r does not handle right, or a rule on p or one of its parents
// grants it. It returns the rule's path ("" when not handled or denied).
func (r *Ruleset) Allows(p, right string) (bool, string) {
	if !slices.Contains(r.HandledFS, right) {
		return true, ""
	}
	best := ""
	for _, rule := range r.Rules {
		if within(p, rule.Path) && slices.Contains(rule.Rights, right) && len(rule.Path) > len(best) {
			best = rule.Path
		}
	}
	return best != "", best
}

// AllowsPort reports whether r allows bind_tcp or connect_tcp on port.
func (r *Ruleset) AllowsPort(access string, port uint64) bool {
	if !slices.Contains(r.HandledNet, access) {
		return true
	}
	ports := r.Bind
	if access == "connect_tcp" {
		ports = r.Connect
	}
	return slices.Contains(ports, port)
}

// within reports whether p is dir or beneath it.
func within(p, dir string) bool {
	return p == dir || dir == "/" || strings.HasPrefix(p, dir+"/")
}

// validate checks names and paths.
func (r *Ruleset) validate() error {
	for _, c := range []struct {
		what  string
		names []string
		table []ll.Right
	}{{"handledAccessFs", r.HandledFS, ll.Rights}, {"handledAccessNet", r.HandledNet, ll.NetRights}, {"scoped", r.Scoped, ll.Scopes}} {
		if _, err := ll.Bits(c.table, c.names); err != nil {
			return fmt.Errorf("%s: %w", c.what, err)
		}
	}
	if len(r.Bind) > 0 && !slices.Contains(r.HandledNet, "bind_tcp") {
		return fmt.Errorf("netPort: bind_tcp is not handled by the ruleset")
	}
	if len(r.Connect) > 0 && !slices.Contains(r.HandledNet, "connect_tcp") {
		return fmt.Errorf("netPort: connect_tcp is not handled by the ruleset")
	}
	for _, rule := range r.Rules {
		if !path.IsAbs(rule.Path) {
			return fmt.Errorf("pathBeneath %s: not an absolute path", rule.Path)
		}
		if _, err := ll.Bits(ll.Rights, rule.Rights); err != nil {
			return fmt.Errorf("pathBeneath %s: %w", rule.Path, err)
		}
		for _, right := range rule.Rights {
			if !slices.Contains(r.HandledFS, right) {
				return fmt.Errorf("pathBeneath %s: right %s is not handled by the ruleset", rule.Path, right)
			}
		}
	}
	return nil
}
