package emit

import (
	"bytes"
	"embed"
	"fmt"
	"strconv"
	"strings"
	"text/template"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/learn"
)

// view is the language-neutral view of a profile that the source
// templates render: what each syscall does, with comments already made
// from the model, and no language's spelling. The templates spell it
// through a dialect's functions.
type view struct {
	// Version is profgen's version (untrusted only in the sense that it
	// is free text: templates put it through their comment function).
	Version string
	// Summary is the header line that says what the profile is.
	Summary string
	// Notes are the profile's notes, one per line.
	Notes []string
	// Command is the recorded command line, one line, or "".
	Command string
	// Arch is the profile's architecture (Go's name) and ArchConst
	// libseccomp's constant for it.
	Arch      string
	ArchConst string
	Default   learn.Action
	Log       bool
	Package   string
	Syscalls  []viewSyscall
	// Program is the compiled filter, for the formats that embed it.
	Program []unix.SockFilter
	// Hot is the order libseccomp tests the syscalls in, for the formats
	// that build the filter with libseccomp at load time: learn.HotOrder
	// of the recorded counts, with its priorities.
	Hot []viewHot
	// Serving is the view of Options.Serving, the filter the program
	// stacks once its start-up is done; nil without one.
	Serving *view
	// Landlock is the Landlock ruleset the c and go formats apply before
	// the filter (Options.Landlock); nil without one.
	Landlock *viewLandlock
}

// viewHot is one syscall's libseccomp priority (seccomp_syscall_priority).
type viewHot struct {
	Name     string
	Priority uint8
}

// viewSyscall is one entry of the profile.
type viewSyscall struct {
	Name string
	// Comment says where the entry came from, a line each.
	Comment []string
	Action  learn.Action
	// IsDefault: the action is the default action, so no rule is added
	// (libseccomp refuses a rule whose action is the default).
	IsDefault bool
	// Rules OR; empty means unconditional.
	Rules []viewRule
	// RulesText is the rules as the model prints them.
	RulesText string
}

// viewRule is one rule: its conditions AND.
type viewRule []viewCond

// viewCond is a comparison of argument Arg.
type viewCond struct {
	Arg      int
	Op       learn.Op
	Operands []uint64
}

// newView builds the view of p; it refuses what the sources cannot
// enforce (checkCodeProfile) and rules without a condition.
func newView(p *learn.Profile, opts Options) (*view, error) {
	if err := checkCodeProfile(p); err != nil {
		return nil, err
	}
	v := &view{
		Version:   opts.version(),
		Summary:   profileSummary(p),
		Notes:     p.Notes,
		Command:   commandLine(p.Command),
		Arch:      string(p.Arch),
		ArchConst: p.Arch.OCI(),
		Default:   p.DefaultAction,
		Log:       opts.Log,
		Package:   opts.goPackage(),
	}
	for _, s := range p.Syscalls {
		vs := viewSyscall{
			Name:      s.Name,
			Comment:   syscallComment(s, p.Inputs),
			Action:    s.Action,
			IsDefault: s.Action == p.DefaultAction,
		}
		for _, r := range s.Rules {
			var vr viewRule
			for i, m := range r {
				if m == nil {
					continue
				}
				op, operands, err := learn.Operands(m)
				if err != nil {
					return nil, fmt.Errorf("syscall %s: rule %s: arg %d: %w", s.Name, r, i, err)
				}
				vr = append(vr, viewCond{Arg: i, Op: op, Operands: operands})
			}
			if len(vr) == 0 {
				return nil, fmt.Errorf("syscall %s: rule %s: rule has no condition", s.Name, r)
			}
			vs.Rules = append(vs.Rules, vr)
			if vs.RulesText != "" {
				vs.RulesText += " || "
			}
			vs.RulesText += r.String()
		}
		v.Syscalls = append(v.Syscalls, vs)
	}
	for i, name := range learn.HotOrder(p, p.Counts()) {
		v.Hot = append(v.Hot, viewHot{Name: name, Priority: learn.HotPriority(i)})
	}
	if opts.Landlock != nil {
		var err error
		if v.Landlock, err = newViewLandlock(opts.Landlock); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// addServing adds the view of opts.Serving, the filter of the serving
// phase that the program stacks through fn once its start-up is done;
// with compiled, its program too (compiled with opts.Compile), for the
// outputs that load it as raw instructions. p, the filter loaded first,
// must let seccomp(SECCOMP_SET_MODE_FILTER) through, or fn could never
// load the second. Nothing is added without opts.Serving.
func (v *view) addServing(p *learn.Profile, opts Options, fn string, compiled bool) error {
	if opts.Serving == nil {
		return nil
	}
	if p.Verdict("seccomp", [6]uint64{unix.SECCOMP_SET_MODE_FILTER}) != learn.Allow {
		return fmt.Errorf("%s needs the profile to allow seccomp(SECCOMP_SET_MODE_FILTER), to stack the serving phase's filter", fn)
	}
	var err error
	if v.Serving, err = newView(opts.Serving, opts); err != nil {
		return fmt.Errorf("serving phase: %w", err)
	}
	if compiled {
		if v.Serving.Program, err = compile(opts.Serving, opts); err != nil {
			return fmt.Errorf("serving phase: %w", err)
		}
	}
	return nil
}

// commandLine joins a recorded command line into one line, each argument
// quoted as Go would where it needs it, so that it can be shown in a
// comment. Templates still escape the result for their language.
func commandLine(argv []string) string {
	parts := make([]string, len(argv))
	for i, a := range argv {
		if a != "" && strings.IndexFunc(a, func(r rune) bool {
			return !(r == '/' || r == '.' || r == '-' || r == '_' || r == '=' || r == ':' || r == ',' ||
				('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9'))
		}) < 0 {
			parts[i] = a
		} else {
			parts[i] = strconv.Quote(a)
		}
	}
	return strings.Join(parts, " ")
}

//go:embed templates/*.tmpl
var templateFS embed.FS

// funcs are a dialect's template functions.
func (d dialect) funcs() template.FuncMap {
	return template.FuncMap{
		"comment": d.comment,
		"action": func(a learn.Action) (string, error) {
			return d.action(a)
		},
		"cond": func(c viewCond) string {
			return d.cond(c.Arg, d.ops[c.Op], c.Operands)
		},
		// quote spells a string literal; the strings quoted are
		// syscall names, checked against libseccomp's table.
		"quote": strconv.Quote,
		"hex":   func(v any) string { return fmt.Sprintf("%#x", v) },
		"disasm": func(ins unix.SockFilter) string {
			return fmt.Sprint(bpf.RawInstruction{Op: ins.Code, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}.Disassemble())
		},
	}
}

// render executes template name of d over v.
func (d dialect) render(name string, v *view) ([]byte, error) {
	t, err := template.New(name).Funcs(d.funcs()).ParseFS(templateFS, "templates/"+name)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
