package emit

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/recording"
)

// WriteText writes p as a table a person reads: each syscall with its
// action, rules, coverage and why it is there; then the syscalls whose
// argument rules take them off the kernel's action cache, most called
// first with their recorded calls (offCache).
func WriteText(w io.Writer, p *learn.Profile) error {
	return writeText(w, p, Options{})
}

// writeTextFormat is the text format's writer: WriteText, saying which
// runtime's calls were added (opts.Runtime).
func writeTextFormat(w io.Writer, p *learn.Profile, opts Options) error {
	return writeText(w, p, opts)
}

func writeText(w io.Writer, p *learn.Profile, opts Options) error {
	fmt.Fprintf(w, "# profile for %s, default action %s, learned from %d recording(s)\n", p.Arch, p.DefaultAction, p.Inputs)
	if opts.Runtime != "" {
		fmt.Fprintf(w, "# runtime: %s\n", runtimeLine(p, opts.Runtime))
	}
	for _, n := range p.Notes {
		fmt.Fprintf(w, "# note: %s\n", n)
	}
	// The evidence columns, from the recordings the profile was learned
	// from, when they say anything; the REACHABLE column (emit
	// --reachable); RULES last.
	rec := opts.Recording
	if rec != nil && !hasEvidence(rec) {
		rec = nil
	}
	cols, last := "SYSCALL\tACTION\tSEEN\tORIGIN\t", "\t\t\t\t"
	if rec != nil {
		cols, last = cols+"FIRST\tPHASES\tEXES\t", last+"\t\t\t"
	}
	if opts.Reachable != nil {
		fmt.Fprintln(w, "# REACHABLE: whether the recorded executables' code can make the syscall (profgen reachable; kernel: the kernel makes it itself; start: the execve that started the program)")
		cols, last = cols+"REACHABLE\t", last+"\t"
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, cols+"RULES")
	for _, s := range p.Syscalls {
		rules := learn.RulesText(p.Arch, s.Name, s.Rules)
		seen := "-"
		if s.Seen > 0 {
			seen = fmt.Sprintf("%d/%d", s.Seen, p.Inputs)
		}
		row := []string{s.Name, s.Action.String(), seen, string(s.Origin)}
		if rec != nil {
			var e EvidenceCells
			if rs := rec.Lookup(s.Name); rs != nil {
				e = EvidenceText(rs.Evidence)
			} else {
				e = EvidenceText(recording.Evidence{})
			}
			row = append(row, e.First, e.Phases, e.Exes)
		}
		if opts.Reachable != nil {
			row = append(row, opts.Reachable(s.Name))
		}
		fmt.Fprintln(tw, strings.Join(append(row, rules), "\t"))
		// Reasons and notes go on lines of their own, in the last
		// column, so that they do not widen the table.
		if s.Reason != "" {
			fmt.Fprintf(tw, "%s# %s\n", last, s.Reason)
		}
		for _, n := range s.Notes {
			fmt.Fprintf(tw, "%s# note: %s\n", last, n)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if opts.Serving != nil {
		if _, err := io.WriteString(w, "\n# "+ServingDrops(p, opts.Serving, opts.Dangerous).Text()+"\n"); err != nil {
			return err
		}
	}
	return offCache(w, p)
}

// hasEvidence reports whether some syscall of r has evidence.
func hasEvidence(r *recording.Recording) bool {
	for i := range r.Syscalls {
		if r.Syscalls[i].HasEvidence() {
			return true
		}
	}
	return false
}

// EvidenceCells is a recorded call's evidence as the text outputs show it
// (emit --format text, explain of a recording), "-" where unknown.
type EvidenceCells struct {
	// First is when the call first appeared: "120ms", and in a merged
	// recording the input that first made it ("#2 120ms", its time
	// measured from that input's start).
	First string
	// Phases are the calls per phase, in the order a run goes through
	// them: "startup 1, serving 8".
	Phases string
	// Exes are the executables that made it, and how many more: "/srv/a,
	// /srv/b +3".
	Exes string
}

// EvidenceText spells e as EvidenceCells.
func EvidenceText(e recording.Evidence) EvidenceCells {
	c := EvidenceCells{First: "-", Phases: "-", Exes: "-"}
	if e.FirstSeenMs != nil {
		c.First = fmt.Sprintf("%dms", *e.FirstSeenMs)
		if e.FirstInput > 0 {
			c.First = fmt.Sprintf("#%d %s", e.FirstInput, c.First)
		}
	}
	var ph []string
	for _, name := range recording.PhaseNames {
		if n := e.Phases[name]; n > 0 {
			ph = append(ph, fmt.Sprintf("%s %d", name, n))
		}
	}
	if len(ph) > 0 {
		c.Phases = strings.Join(ph, ", ")
	}
	if len(e.Exes) > 0 || e.OtherExes > 0 {
		c.Exes = strings.Join(e.Exes, ",")
		if e.OtherExes > 0 {
			c.Exes = strings.TrimPrefix(fmt.Sprintf("%s +%d", c.Exes, e.OtherExes), " ")
		}
	}
	return c
}

// Drops is what the serving phase's filter takes away from the whole
// profile's: the syscalls the whole profile allows (in some case) that
// the serving one never does, and which of them are dangerous.
type Drops struct {
	// Allowed and ServingAllowed count the syscalls each profile allows
	// in some case (learn.Profile.Allowed).
	Allowed        int `json:"allowed"`
	ServingAllowed int `json:"servingAllowed"`
	// Dropped are the syscalls allowed by the whole profile and never by
	// the serving one, sorted.
	Dropped []string `json:"dropped"`
	// Dangerous are those of Dropped that are dangerous, with why; the
	// dangerous syscalls the serving filter still allows are in
	// DangerousKept.
	Dangerous     []NamedWhy `json:"dangerousDropped"`
	DangerousKept []NamedWhy `json:"dangerousKept"`
}

// NamedWhy is a syscall and why it is named.
type NamedWhy struct {
	Name string `json:"name"`
	Why  string `json:"why"`
}

// ServingDrops compares full, the whole profile, with serving, the serving
// phase's; dangerous says why a syscall is dangerous, "" when it is not
// (explain's list: cmd/profgen passes explain.DangerousWhy; nil judges
// none dangerous).
func ServingDrops(full, serving *learn.Profile, dangerous func(string) string) Drops {
	if dangerous == nil {
		dangerous = func(string) string { return "" }
	}
	all, kept := full.Allowed(), serving.Allowed()
	d := Drops{Allowed: len(all), ServingAllowed: len(kept), Dropped: []string{}, Dangerous: []NamedWhy{}, DangerousKept: []NamedWhy{}}
	for _, name := range all {
		why := dangerous(name)
		switch {
		case !slices.Contains(kept, name):
			d.Dropped = append(d.Dropped, name)
			if why != "" {
				d.Dangerous = append(d.Dangerous, NamedWhy{name, why})
			}
		case why != "":
			d.DangerousKept = append(d.DangerousKept, NamedWhy{name, why})
		}
	}
	return d
}

// Text says d in one line.
func (d Drops) Text() string {
	s := fmt.Sprintf("the serving phase's filter drops %d of the %d syscalls allowed (%d left)", len(d.Dropped), d.Allowed, d.ServingAllowed)
	if len(d.Dropped) > 0 {
		s += ": " + strings.Join(d.Dropped, ", ")
	}
	names := func(l []NamedWhy) string {
		if len(l) == 0 {
			return "none"
		}
		var out []string
		for _, n := range l {
			out = append(out, n.Name)
		}
		return strings.Join(out, ", ")
	}
	return s + "; dangerous among them: " + names(d.Dangerous) + "; dangerous still allowed while serving: " + names(d.DangerousKept)
}

// offCache writes the section of the text output that says what the
// argument rules cost: on Linux 5.11+ a syscall allowed by name is
// decided from the kernel's action-cache bitmap without running the
// filter, and one with argument rules runs the filter on every call. The
// syscalls with rules (and an action other than the default) are listed
// most called first, with the calls the recordings counted and their
// share of all recorded calls, so that a pinned argument that costs much
// and protects little can be let go (emit --args none, or an edited
// profile).
func offCache(w io.Writer, p *learn.Profile) error {
	var total uint64
	for _, s := range p.Syscalls {
		total += s.Calls
	}
	var names []string
	for _, name := range learn.HotOrder(p, p.Counts()) {
		if s := p.Lookup(name); s != nil && len(s.Rules) > 0 {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		_, err := fmt.Fprintln(w, "\n# off the action cache: none (every allowed syscall is allowed by name)")
		return err
	}
	fmt.Fprintln(w, "\n# off the action cache: these syscalls' argument rules make the kernel run the filter on each of their calls")
	fmt.Fprintln(w, "# (the others are decided by its action cache, Linux 5.11+), most recorded calls first")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SYSCALL\tCALLS\tSHARE\tRULES")
	for _, name := range names {
		s := p.Lookup(name)
		calls, share := "-", "-"
		if s.Calls > 0 {
			calls = fmt.Sprint(s.Calls)
			share = fmt.Sprintf("%.1f%%", 100*float64(s.Calls)/float64(total))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d rule(s)\n", s.Name, calls, share, len(s.Rules))
	}
	return tw.Flush()
}

// runtimeLine says which container runtime's own calls the profile adds:
// none, or the runtime and the syscalls added for it (those of its calls
// the recordings did not already hold).
func runtimeLine(p *learn.Profile, rt learn.Loader) string {
	if rt == learn.LoaderNone {
		return "none: no container runtime's own calls were added (--runtime runc or crun adds them, for a profile a container runtime loads)"
	}
	var added []string
	for _, s := range p.Syscalls {
		if s.Origin == learn.OriginRuntime {
			added = append(added, s.Name)
		}
	}
	if len(added) == 0 {
		return fmt.Sprintf("%s: its own calls after loading the filter were all recorded; none was added", rt)
	}
	return fmt.Sprintf("%s: its own calls after loading the filter were added (%d: %s)", rt, len(added), strings.Join(added, ", "))
}
