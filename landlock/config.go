package landlock

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strings"

	ll "github.com/profgen/profgen/internal/landlock"
)

// config is Landlock's configuration format as JSON
// (landlock-lsm/landlockconfig, schema/landlockconfig.json).
type config struct {
	ABI        int               `json:"abi,omitempty"`
	Variable   []json.RawMessage `json:"variable,omitempty"`
	Ruleset    []configRuleset   `json:"ruleset,omitempty"`
	PathBeneat []configPath      `json:"pathBeneath,omitempty"`
	NetPort    []configPort      `json:"netPort,omitempty"`
}

type configRuleset struct {
	HandledAccessFs  []string `json:"handledAccessFs,omitempty"`
	HandledAccessNet []string `json:"handledAccessNet,omitempty"`
	Scoped           []string `json:"scoped,omitempty"`
}

type configPath struct {
	AllowedAccess []string `json:"allowedAccess"`
	Parent        []string `json:"parent"`
}

type configPort struct {
	AllowedAccess []string `json:"allowedAccess"`
	Port          []uint64 `json:"port"`
}

// ABI returns the lowest Landlock ABI version that has every right and
// scope r handles.
func (r *Ruleset) ABI() int {
	abi := 1
	for _, c := range []struct {
		names []string
		table []ll.Right
	}{{r.HandledFS, ll.Rights}, {r.HandledNet, ll.NetRights}, {r.Scoped, ll.Scopes}} {
		for _, right := range c.table {
			if slices.Contains(c.names, right.Name) {
				abi = max(abi, right.ABI)
			}
		}
	}
	return abi
}

// Config returns r in Landlock's configuration format: the rules that
// allow the same rights share one pathBeneath entry, in the order of their
// first path.
func (r *Ruleset) Config() ([]byte, error) {
	if err := r.validate(); err != nil {
		return nil, err
	}
	c := config{ABI: r.ABI()}
	c.Ruleset = []configRuleset{{HandledAccessFs: r.HandledFS, HandledAccessNet: r.HandledNet, Scoped: r.Scoped}}
	byRights := map[string]int{}
	for _, rule := range r.Rules {
		k := strings.Join(rule.Rights, ",")
		i, ok := byRights[k]
		if !ok {
			i = len(c.PathBeneat)
			byRights[k] = i
			c.PathBeneat = append(c.PathBeneat, configPath{AllowedAccess: rule.Rights})
		}
		c.PathBeneat[i].Parent = append(c.PathBeneat[i].Parent, rule.Path)
	}
	both, bindOnly, connectOnly := []uint64{}, []uint64{}, []uint64{}
	for _, p := range r.Bind {
		if slices.Contains(r.Connect, p) {
			both = append(both, p)
		} else {
			bindOnly = append(bindOnly, p)
		}
	}
	for _, p := range r.Connect {
		if !slices.Contains(r.Bind, p) {
			connectOnly = append(connectOnly, p)
		}
	}
	for _, g := range []struct {
		access []string
		ports  []uint64
	}{{[]string{"bind_tcp"}, bindOnly}, {[]string{"connect_tcp"}, connectOnly}, {[]string{"bind_tcp", "connect_tcp"}, both}} {
		if len(g.ports) > 0 {
			c.NetPort = append(c.NetPort, configPort{AllowedAccess: g.access, Port: g.ports})
		}
	}
	out, err := json.MarshalIndent(&c, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// ParseConfig reads a ruleset in Landlock's configuration format: several
// ruleset entries unite, the groups abi.all, abi.read_execute and
// abi.read_write resolve against the file's abi (as landlockconfig
// resolves them), rules on the same path unite. Variables are refused:
// profgen does not expand them. A relative path is taken from the current
// directory, as landlockconfig's launcher takes it.
func ParseConfig(data []byte) (*Ruleset, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var c config
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("landlock configuration: %w", err)
	}
	if len(c.Variable) > 0 {
		return nil, fmt.Errorf("landlock configuration: variables are not supported")
	}
	if len(c.Ruleset) == 0 && len(c.PathBeneat) == 0 && len(c.NetPort) == 0 {
		return nil, fmt.Errorf("landlock configuration: no ruleset, pathBeneath or netPort")
	}
	r := &Ruleset{}
	var err error
	resolve := func(table []ll.Right, names []string, where string) []string {
		var bits uint64
		for _, n := range names {
			var b uint64
			switch n {
			case "abi.all", "abi.read_execute", "abi.read_write":
				if c.ABI == 0 {
					err = fmt.Errorf("landlock configuration: %s: %s needs abi", where, n)
					return nil
				}
				b = ll.All(table, c.ABI)
				if table[0].Name == "execute" {
					switch n {
					case "abi.read_execute":
						b &= ll.All(table, 0) | mustBits("execute", "read_file", "read_dir", "refer")
					case "abi.read_write":
						b &^= mustBits("execute")
					}
				}
			default:
				var e error
				if b, e = ll.Bits(table, []string{n}); e != nil {
					err = fmt.Errorf("landlock configuration: %s: %w", where, e)
					return nil
				}
			}
			bits |= b
		}
		return ll.Names(table, bits)
	}
	var fs, net, scoped []string
	for i, rs := range c.Ruleset {
		where := fmt.Sprintf("ruleset[%d]", i)
		fs = append(fs, resolve(ll.Rights, rs.HandledAccessFs, where)...)
		net = append(net, resolve(ll.NetRights, rs.HandledAccessNet, where)...)
		scoped = append(scoped, resolve(ll.Scopes, rs.Scoped, where)...)
	}
	r.HandledFS = resolve(ll.Rights, fs, "ruleset")
	r.HandledNet = resolve(ll.NetRights, net, "ruleset")
	r.Scoped = resolve(ll.Scopes, scoped, "ruleset")
	rules := map[string][]string{}
	for i, pb := range c.PathBeneat {
		rights := resolve(ll.Rights, pb.AllowedAccess, fmt.Sprintf("pathBeneath[%d]", i))
		for _, p := range pb.Parent {
			if strings.Contains(p, "${") {
				return nil, fmt.Errorf("landlock configuration: pathBeneath[%d]: %s: variables are not supported", i, p)
			}
			if p == "" {
				return nil, fmt.Errorf("landlock configuration: pathBeneath[%d]: empty path", i)
			}
			if !path.IsAbs(p) {
				abs, err := filepath.Abs(p)
				if err != nil {
					return nil, fmt.Errorf("landlock configuration: pathBeneath[%d]: %s: %w", i, p, err)
				}
				p = abs
			}
			p = path.Clean(p)
			rules[p] = resolve(ll.Rights, append(rules[p], rights...), p)
		}
	}
	for p, rights := range rules {
		r.Rules = append(r.Rules, Rule{Path: p, Rights: rights})
	}
	slices.SortFunc(r.Rules, func(a, b Rule) int { return strings.Compare(a.Path, b.Path) })
	for i, np := range c.NetPort {
		access := resolve(ll.NetRights, np.AllowedAccess, fmt.Sprintf("netPort[%d]", i))
		for _, p := range np.Port {
			if p > 65535 {
				return nil, fmt.Errorf("landlock configuration: netPort[%d]: port %d out of range", i, p)
			}
			if slices.Contains(access, "bind_tcp") && !slices.Contains(r.Bind, p) {
				r.Bind = append(r.Bind, p)
			}
			if slices.Contains(access, "connect_tcp") && !slices.Contains(r.Connect, p) {
				r.Connect = append(r.Connect, p)
			}
		}
	}
	if err != nil {
		return nil, err
	}
	slices.Sort(r.Bind)
	slices.Sort(r.Connect)
	if err := r.validate(); err != nil {
		return nil, fmt.Errorf("landlock configuration: %w", err)
	}
	return r, nil
}

func mustBits(names ...string) uint64 {
	b, err := ll.Bits(ll.Rights, names)
	if err != nil {
		panic(err)
	}
	return b
}
