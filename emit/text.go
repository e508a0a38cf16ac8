package emit

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/profgen/profgen/learn"
)

// WriteText writes p as a table a person reads: each syscall with its
// action, rules, coverage and why it is there.
func WriteText(w io.Writer, p *learn.Profile) error {
	fmt.Fprintf(w, "# profile for %s, default action %s, learned from %d recording(s)\n", p.Arch, p.DefaultAction, p.Inputs)
	for _, n := range p.Notes {
		fmt.Fprintf(w, "# note: %s\n", n)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SYSCALL\tACTION\tSEEN\tORIGIN\tRULES")
	for _, s := range p.Syscalls {
		rules := "any"
		if len(s.Rules) > 0 {
			parts := make([]string, len(s.Rules))
			for i, r := range s.Rules {
				parts[i] = r.String()
			}
			rules = strings.Join(parts, " || ")
		}
		seen := "-"
		if s.Seen > 0 {
			seen = fmt.Sprintf("%d/%d", s.Seen, p.Inputs)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Name, s.Action, seen, s.Origin, rules)
		// Reasons and notes go on lines of their own, in the last
		// column, so that they do not widen the table.
		if s.Reason != "" {
			fmt.Fprintf(tw, "\t\t\t\t# %s\n", s.Reason)
		}
		for _, n := range s.Notes {
			fmt.Fprintf(tw, "\t\t\t\t# note: %s\n", n)
		}
	}
	return tw.Flush()
}
