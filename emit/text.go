package emit

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/profgen/profgen/learn"
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
	// The REACHABLE column (emit --reachable) goes before RULES.
	cols, last := "SYSCALL\tACTION\tSEEN\tORIGIN\t", "\t\t\t\t"
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
		reach := ""
		if opts.Reachable != nil {
			reach = opts.Reachable(s.Name) + "\t"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s%s\n", s.Name, s.Action, seen, s.Origin, reach, rules)
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
	return offCache(w, p)
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
