package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/profgen/profgen/emit"
	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/recording"
)

type diffParams struct {
	json bool
}

func newDiffCmd() *cobra.Command {
	var p diffParams
	cmd := &cobra.Command{
		Use:   "diff [flags] OLD NEW",
		Short: "Show what changed between two recordings or profiles, and fail on drift",
		Long: `diff compares OLD and NEW, each a profgen recording or an OCI seccomp profile
(told apart by their content), and lists the syscalls added and removed and
the argument values (for two recordings) or rules (otherwise) that changed.

It then checks what NEW needs against what OLD allows: every call shape a NEW
recording saw, or every syscall and rule a NEW profile allows, is evaluated in
OLD's profile (learned from OLD with no runtime's syscalls when OLD is a
recording). Anything OLD would deny is drift: the release candidate needs a
syscall or an argument value the committed profile does not allow.

Exit status:
  0  no drift (removals alone are not drift)
  1  drift: NEW needs something OLD does not allow
  2  error: unreadable or invalid input, different architectures`,
		Example: `  profgen diff seccomp.json rc-recording.json
  profgen diff --json old-recording.json new-recording.json
  profgen diff old-seccomp.json new-seccomp.json || echo "profile drift"`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return &exitError{code: 2, err: fmt.Errorf("diff needs OLD and NEW, got %d argument(s)", len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDiff(cmd.OutOrStdout(), &p, args[0], args[1])
		},
	}
	cmd.Flags().BoolVar(&p.json, "json", false, "print the differences as JSON")
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &exitError{code: 2, err: err} })
	return cmd
}

// diffReport is diff's JSON output.
type diffReport struct {
	Old     string `json:"old"`
	New     string `json:"new"`
	Drifted bool   `json:"drifted"`
	*learn.Difference
}

func runDiff(stdout io.Writer, p *diffParams, oldPath, newPath string) error {
	fail := func(err error) error { return &exitError{code: 2, err: err} }
	old, oldKind, err := readDiffInput(oldPath)
	if err != nil {
		return fail(err)
	}
	cur, curKind, err := readDiffInput(newPath)
	if err != nil {
		return fail(err)
	}
	d, err := learn.Diff(old, cur)
	if err != nil {
		return fail(err)
	}
	rep := diffReport{Old: oldKind + " " + oldPath, New: curKind + " " + newPath, Drifted: d.Drifted(), Difference: d}
	if p.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = writeDiffText(stdout, &rep)
	}
	if err != nil {
		return fail(err)
	}
	if d.Drifted() {
		return &exitError{code: 1}
	}
	return nil
}

// readDiffInput reads a recording or an OCI profile, told apart by their
// fields: a recording has "version" and "syscalls" entries with "count";
// an OCI profile has "defaultAction".
func readDiffInput(path string) (learn.DiffInput, string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return learn.DiffInput{}, "", fmt.Errorf("read %s: %w", path, err)
	}
	var probe struct {
		Version       *json.RawMessage `json:"version"`
		DefaultAction *json.RawMessage `json:"defaultAction"`
		Syscalls      []map[string]json.RawMessage
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		// Let the parser of what it looks like say where the JSON is
		// broken.
		if bytes.Contains(data, []byte(`"defaultAction"`)) {
			_, err = emit.ParseOCI(data)
		} else {
			_, err = recording.Parse(data)
		}
		return learn.DiffInput{}, "", fmt.Errorf("%s: %w", path, err)
	}
	isRecording := probe.Version != nil
	for _, s := range probe.Syscalls {
		if _, ok := s["count"]; !ok {
			isRecording = false
		}
	}
	switch {
	case isRecording && probe.DefaultAction == nil:
		r, err := recording.Parse(data)
		if err != nil {
			return learn.DiffInput{}, "", fmt.Errorf("recording %s: %w", path, err)
		}
		return learn.DiffInput{Recording: r}, "recording", nil
	case probe.DefaultAction != nil:
		prof, err := emit.ParseOCI(data)
		if err != nil {
			return learn.DiffInput{}, "", fmt.Errorf("profile %s: %w", path, err)
		}
		return learn.DiffInput{Profile: prof}, "profile", nil
	}
	return learn.DiffInput{}, "", fmt.Errorf("%s is neither a profgen recording (\"version\", \"syscalls\" with \"count\") nor an OCI seccomp profile (\"defaultAction\")", path)
}

func writeDiffText(w io.Writer, r *diffReport) error {
	fmt.Fprintf(w, "--- %s\n+++ %s\n", r.Old, r.New)
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	if len(r.Syscalls) == 0 {
		fmt.Fprintln(w, "no syscall or argument changes")
	} else {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SYSCALL\tCHANGE\tARGUMENT\tADDED\tREMOVED")
		for _, s := range r.Syscalls {
			if len(s.Args) == 0 {
				fmt.Fprintf(tw, "%s\t%s\t\t\t\n", s.Name, s.Change)
				continue
			}
			for i, a := range s.Args {
				name, change := s.Name, s.Change
				if i > 0 {
					name, change = "", ""
				}
				arg := a.Name
				if a.Index >= 0 {
					arg = fmt.Sprintf("%s (arg %d)", a.Name, a.Index)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", name, change, arg, joinOrDash(a.Added), joinOrDash(a.Removed))
			}
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if !r.Drifted {
		_, err := fmt.Fprintln(w, "OK: NEW needs nothing OLD does not allow")
		return err
	}
	fmt.Fprintln(w, "DRIFT: NEW needs what OLD does not allow:")
	for _, d := range r.Drift {
		what := d.Syscall
		if d.Detail != "" {
			what += " (" + d.Detail + ")"
		}
		fmt.Fprintf(w, "  %s: OLD says %s\n", what, d.Old)
	}
	return nil
}

func joinOrDash(vs []string) string {
	if len(vs) == 0 {
		return "-"
	}
	return strings.Join(vs, ", ")
}
