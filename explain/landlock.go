package explain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	ll "github.com/profgen/profgen/internal/landlock"
	"github.com/profgen/profgen/landlock"
)

// KindLandlock is a Landlock ruleset in Landlock's configuration format,
// as emit --format landlock writes it.
const KindLandlock = "landlock"

// LandlockReport says what a Landlock ruleset lets a program do.
type LandlockReport struct {
	// ABI is the lowest Landlock ABI that enforces all of it, Kernel the
	// Linux release that has it.
	ABI    int    `json:"abi"`
	Kernel string `json:"kernel"`
	// Readable, Writable and Executable are the paths beneath which
	// files can be read, written (any right that changes the file
	// system: write_file, truncate, make_*, remove_*; refer alone, which
	// needs a make_* right too, does not count) and
	// executed, each with the rights the rule grants.
	Readable   []LandlockPath `json:"readable"`
	Writable   []LandlockPath `json:"writable"`
	Executable []LandlockPath `json:"executable"`
	// Bind and Connect are the TCP ports allowed; nil when the ruleset
	// does not restrict that side.
	Bind    []uint64 `json:"bind"`
	Connect []uint64 `json:"connect"`
	// Unrestricted lists what the ruleset does not handle, which the
	// program may then do anywhere.
	Unrestricted []string `json:"unrestricted,omitempty"`
	Warnings     []string `json:"warnings,omitempty"`
}

// LandlockPath is a rule's path and its rights of one kind.
type LandlockPath struct {
	Path   string   `json:"path"`
	Rights []string `json:"rights"`
}

var (
	readRights  = []string{"read_file", "read_dir"}
	writeRights = []string{"write_file", "truncate", "remove_dir", "remove_file", "make_char", "make_dir", "make_reg", "make_sock", "make_fifo", "make_block", "make_sym"}
)

// isLandlockConfig tells a Landlock configuration from a seccomp profile:
// an object with one of the format's top-level members and no
// defaultAction.
func isLandlockConfig(data []byte) bool {
	var probe map[string]json.RawMessage
	if json.Unmarshal(data, &probe) != nil {
		return false
	}
	if _, ok := probe["defaultAction"]; ok {
		return false
	}
	for _, k := range []string{"ruleset", "pathBeneath", "netPort"} {
		if _, ok := probe[k]; ok {
			return true
		}
	}
	return false
}

// explainLandlock explains a Landlock configuration.
func explainLandlock(data []byte) (*Report, error) {
	r, err := landlock.ParseConfig(data)
	if err != nil {
		return nil, err
	}
	return &Report{Kind: KindLandlock, Landlock: ExplainLandlock(r)}, nil
}

// ExplainLandlock says what r lets a program read, write and execute,
// which ports it allows, and warns about a writable directory that is
// also executable, / readable, /proc or /sys writable, and rights or TCP
// sides the ruleset does not handle.
func ExplainLandlock(r *landlock.Ruleset) *LandlockReport {
	rep := &LandlockReport{ABI: r.ABI()}
	for _, t := range [][]ll.Right{ll.Rights, ll.NetRights, ll.Scopes} {
		for _, right := range t {
			if right.ABI == rep.ABI {
				rep.Kernel = right.Kernel
			}
		}
	}
	if rep.ABI == 1 {
		rep.Kernel = "5.13"
	}
	pick := func(rights, of []string) []string {
		var out []string
		for _, x := range rights {
			if slices.Contains(of, x) {
				out = append(out, x)
			}
		}
		return out
	}
	for _, rule := range r.Rules {
		if rs := pick(rule.Rights, readRights); len(rs) > 0 {
			rep.Readable = append(rep.Readable, LandlockPath{rule.Path, rs})
		}
		if rs := pick(rule.Rights, writeRights); len(rs) > 0 {
			rep.Writable = append(rep.Writable, LandlockPath{rule.Path, rs})
		}
		if slices.Contains(rule.Rights, "execute") {
			rep.Executable = append(rep.Executable, LandlockPath{rule.Path, []string{"execute"}})
		}
	}
	if slices.Contains(r.HandledNet, "bind_tcp") {
		rep.Bind = append([]uint64{}, r.Bind...)
	}
	if slices.Contains(r.HandledNet, "connect_tcp") {
		rep.Connect = append([]uint64{}, r.Connect...)
	}
	for _, c := range []struct {
		table   []ll.Right
		handled []string
		what    string
	}{{ll.Rights, r.HandledFS, "filesystem right"}, {ll.NetRights, r.HandledNet, "TCP right"}, {ll.Scopes, r.Scoped, "scope"}} {
		for _, right := range c.table {
			if !slices.Contains(c.handled, right.Name) {
				rep.Unrestricted = append(rep.Unrestricted, c.what+" "+right.Name)
			}
		}
	}
	warn := func(format string, args ...any) { rep.Warnings = append(rep.Warnings, fmt.Sprintf(format, args...)) }
	for _, w := range rep.Writable {
		for _, x := range rep.Executable {
			if within(w.Path, x.Path) || within(x.Path, w.Path) {
				warn("%s is writable (%s) and %s executable: a file written there can be run", w.Path, strings.Join(w.Rights, ","), x.Path)
			}
		}
		for _, sys := range []string{"/proc", "/sys"} {
			if within(sys, w.Path) || within(w.Path, sys) {
				warn("%s is writable (%s): the kernel's settings and other processes' files", w.Path, strings.Join(w.Rights, ","))
			}
		}
	}
	for _, rd := range rep.Readable {
		if rd.Path == "/" {
			warn("/ is readable: every file, /etc/shadow and keys included")
		}
	}
	if !slices.Contains(r.HandledFS, "execute") {
		warn("execute is not handled: the program may run any file")
	}
	if len(r.HandledNet) < 2 {
		warn("TCP is not fully restricted: %s unhandled", strings.Join(unhandled(ll.NetRights, r.HandledNet), ", "))
	}
	return rep
}

func unhandled(table []ll.Right, handled []string) []string {
	var out []string
	for _, r := range table {
		if !slices.Contains(handled, r.Name) {
			out = append(out, r.Name)
		}
	}
	return out
}

// within reports whether p is dir or beneath it.
func within(p, dir string) bool {
	return p == dir || dir == "/" || strings.HasPrefix(p, dir+"/")
}

// writeLandlockText writes a Landlock report for a person.
func writeLandlockText(w io.Writer, file string, r *LandlockReport) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s: Landlock ruleset, enforced in full from Linux %s (Landlock ABI %d)\n", file, r.Kernel, r.ABI)
	for _, s := range []struct {
		name  string
		paths []LandlockPath
	}{{"readable", r.Readable}, {"writable", r.Writable}, {"executable", r.Executable}} {
		fmt.Fprintf(&b, "%s (%d):", s.name, len(s.paths))
		if len(s.paths) == 0 {
			b.WriteString(" nothing")
		}
		b.WriteString("\n")
		for _, p := range s.paths {
			fmt.Fprintf(&b, "  %s  %s\n", p.Path, strings.Join(p.Rights, ","))
		}
	}
	ports := func(name string, ps []uint64) {
		switch {
		case ps == nil:
			fmt.Fprintf(&b, "%s: any TCP port (not restricted)\n", name)
		case len(ps) == 0:
			fmt.Fprintf(&b, "%s: no TCP port\n", name)
		default:
			var s []string
			for _, p := range ps {
				s = append(s, fmt.Sprint(p))
			}
			fmt.Fprintf(&b, "%s: TCP ports %s\n", name, strings.Join(s, ", "))
		}
	}
	ports("bind", r.Bind)
	ports("connect", r.Connect)
	if len(r.Unrestricted) > 0 {
		fmt.Fprintf(&b, "not restricted: %s\n", strings.Join(r.Unrestricted, ", "))
	}
	for _, x := range r.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", x)
	}
	_, err := w.Write(b.Bytes())
	return err
}
