package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/profgen/profgen/explain"
	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/recording"
)

type explainParams struct {
	json  bool
	files []string
	// reachable are the recordings or executables whose code the
	// allowed syscalls are marked against (--reachable).
	reachable []string
}

func (p *explainParams) validate(args []string) error {
	if len(args) == 0 {
		return errors.New("explain needs at least one FILE (an OCI profile, a k8s SeccompProfile, a raw BPF filter, a Landlock ruleset, a recording or an emit --format go file)")
	}
	p.files = args
	return nil
}

func newExplainCmd() *cobra.Command {
	var p explainParams
	cmd := &cobra.Command{
		Use:   "explain [--json] FILE...",
		Short: "Judge a seccomp profile or filter: what it allows, its attack surface and weaknesses",
		Long: `explain reads an OCI/Docker seccomp profile, a Security Profiles Operator
SeccompProfile (YAML, as 'profgen emit --format k8s' writes it) or a raw BPF
filter (an array of struct sock_filter as 'profgen dump' writes it), or the Go
source 'profgen emit --format go' writes (its embedded filter; told apart by
the content) and
prints its default action, the architectures it admits, the syscalls it
allows without conditions and those it decides on their arguments.

A profile is compiled with libseccomp first, and every verdict comes from
running the filter in a BPF VM over every syscall number of every
architecture, so a profile and its compiled form explain alike.

It compares the number of syscalls allowed with the native syscall table and
with Docker's default profile, lists the well-known dangerous syscalls still
allowed (docs/operations.md says why each is dangerous) and warns about a
default action that allows, a missing architecture check, x32 or i386
admitted, execve without execveat, conditions runc turns into OR, 32-bit
comparisons of 64-bit arguments and names this libseccomp does not know.

A Landlock ruleset (Landlock's configuration format, as 'profgen emit
--format landlock' writes it) is explained too: what is readable, writable
and executable, which TCP ports may be bound and connected to, what it does
not restrict, and warnings (a writable directory that is also executable, /
readable, /proc or /sys writable).

A recording (profgen record's JSON) is explained by what it holds: each
recorded syscall with its calls, when it first appeared, its calls per
phase and the executables that made it, marked when dangerous; how many
syscalls the profile learned from it allows (emit's defaults, --runtime
none); and for a recording made with --ready what the serving phase's
filter (emit --phase serving, EnterServing) drops: how many syscalls, which,
and which of them are dangerous.

With --json each FILE gives one JSON object with the same fields.

--reachable REC|EXE (repeatable) marks the allowed syscalls against what the
code of the recording's executables (or of EXE) can make (profgen reachable,
docs/reachable.md): those the code cannot make are listed, a runtime's or
the baseline's calls, calls of code loaded by dlopen, or gaps of the
analysis. It costs seconds of analysis, hence a flag.`,
		Example: `  profgen explain seccomp.json
  profgen explain --json seccomp.json | jq '.allowedCount, .dockerDefaultAllowed'
  profgen emit --format k8s rec.json | profgen explain -
  profgen dump --pid 1234 -o filter.bpf && profgen explain filter.bpf
  profgen explain ruleset.json   # a Landlock ruleset
  profgen explain --json rec.json | jq '.serving.dropped'   # what serving drops
  profgen explain --reachable rec.json seccomp.json   # which allowed calls the code can make`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := p.validate(args); err != nil {
				return err
			}
			return runExplain(cmd.OutOrStdout(), &p)
		},
	}
	cmd.Flags().BoolVar(&p.json, "json", false, "print one JSON object per FILE")
	cmd.Flags().StringArrayVar(&p.reachable, "reachable", nil, "mark the allowed syscalls against what the code of this recording's executables (or of this executable) can make (repeatable)")
	return cmd
}

func runExplain(stdout io.Writer, p *explainParams) error {
	// Every file is read and judged before anything is printed: a bad
	// file is one error, not half a report.
	var reports []*explain.Report
	for _, f := range p.files {
		r, err := explain.FileWith(f, explain.Options{Learn: explainLearn})
		if err != nil {
			return err
		}
		reports = append(reports, r)
	}
	if len(p.reachable) > 0 {
		if err := markReachable(p.reachable, reports); err != nil {
			return err
		}
	}
	for i, r := range reports {
		var err error
		if p.json {
			err = explain.WriteJSON(stdout, r)
		} else {
			if i > 0 {
				if _, err := io.WriteString(stdout, "\n"); err != nil {
					return err
				}
			}
			err = explain.WriteText(stdout, r)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// explainLearn learns the profiles explain judges a recording by, as emit
// --format text learns them: its defaults (--runtime none), and the
// serving phase's profile with what servingPhase carries over (left out,
// saying why, when the serving phase cannot be learned, as emit does).
func explainLearn(r *recording.Recording) (explain.Learned, error) {
	rs := &recordings{Recording: r}
	full, err := rs.learn(learn.Options{Runtime: learn.LoaderNone})
	if err != nil {
		return explain.Learned{}, err
	}
	l := explain.Learned{Full: full}
	if !hasPhase(r, recording.PhaseServing) {
		return l, nil
	}
	ph, _, err := servingPhase(r)
	if err == nil {
		rs.Recording = ph
		l.Serving, err = rs.learn(learn.Options{Runtime: learn.LoaderNone})
	}
	if err != nil {
		l.Serving, l.ServingNote = nil, fmt.Sprintf("the serving phase cannot be learned: %v", err)
	}
	return l, nil
}
