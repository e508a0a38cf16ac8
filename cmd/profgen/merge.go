package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/internal/exitcode"
	"github.com/profgen/profgen/internal/fileio"
	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/recording"
)

type mergeParams struct {
	output   string
	coverage bool
	// quiet silences the notes of the inputs and the warning about lost
	// events.
	quiet bool
	// json prints the coverage curve as JSON on standard output.
	json bool
	// requireSaturated, when above 0, fails merge (exitcode.NotSaturated)
	// when any of the last requireSaturated inputs added something.
	requireSaturated int
	// by groups the inputs before merging: "" (all into one) or
	// "workload".
	by string
}

func newMergeCmd() *cobra.Command {
	var p mergeParams
	cmd := &cobra.Command{
		Use:   "merge [flags] RECORDING...",
		Short: "Merge recordings into one, with coverage",
		Long: `merge writes the union of recordings: every syscall and argument shape any
of them saw, counts added, and for each syscall and shape how many of the
inputs saw it (seen, out of inputs). Recordings of different architectures,
or that captured a syscall's arguments differently, are refused. If any input
has no argument values (the log backend), no syscall of the result is pinned.
Merging is associative and commutative.

--coverage prints, per syscall and per argument shape, how many inputs saw
it, so that calls only some runs made stand out. Without -o, --coverage
prints only the table.

-o FILE replaces a regular file only once the whole recording was written
(a new file gets 0666 less the umask, an existing one keeps its mode); a
symbolic link is written through, a device or FIFO written into; - is
standard output. An output that is one of the inputs (the same file, also
through a link) is refused. The merged recording's "lost" is the sum of the inputs':
merge warns when it is not 0.

merge prints on standard error, one line each, every note of its inputs
that changes what the merged recording means (recorded under the engine's
filter, a container that exited at once, an interrupted recording, ...);
the merged recording keeps them. --quiet silences those notes and the
warning about lost events.

merge prints on standard error the coverage curve over its inputs, in the
order given: what each input added to the ones before it (new syscalls and
new argument shapes, named when few), and whether the last inputs still
added anything. Order the inputs as they were recorded: a profile has
saturated when the last runs add nothing. --json prints the curve as JSON
on standard output instead (without -o, only the curve). --quiet silences
the text curve.

--require-saturated N fails (exit 4, after writing the merged recording)
when any of the last N inputs added a syscall or an argument shape: a CI
job that records its workload several times fails until the recordings
stop finding new behaviour (docs/ci.md). N must be below the number of
inputs (the first input always adds something).

--by workload merges recordings of Kubernetes pods' containers (made by
profgen-runc through containerd or CRI-O) per (namespace, workload,
container name), the workload from the pod names' owner part (a
Deployment's web-7d9f8c6b5-x2x9k and a StatefulSet's web-0 are both web's;
docs/cli.md gives the rules and their limits). The inputs may be
directories, read for *.json files (recursively). -o names the directory
the merged recordings go to, one per group, NAMESPACE_WORKLOAD_CONTAINER.json;
merge prints each group with how many of its replicas (pods) were seen
running to their end: "seen N/M replicas". A recording that names no pod is
refused. --json and --require-saturated judge one merge and are refused with it.

Exit status:
  0  merged (and, with --require-saturated N, the last N inputs added nothing)
  1  error: unreadable or invalid input, unwritable output
  4  not saturated: one of the last N inputs added something (each is named)`,
		Example: `  profgen merge -o merged.json run1.json run2.json run3.json
  profgen merge --coverage -o merged.json runs/*.json
  profgen merge --require-saturated 2 -o merged.json run1.json run2.json run3.json run4.json run5.json
  profgen merge --json -o merged.json runs/*.json | jq '.[] | .newSyscalls'
  profgen emit --format oci -o seccomp.json merged.json
  profgen merge --by workload -o by-workload/ node-*/recordings/
  profgen emit --format k8s -o web.yaml by-workload/shop_web_srv.json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch p.by {
			case "":
				return runMerge(cmd.OutOrStdout(), &p, args)
			case "workload":
				if p.json || p.requireSaturated > 0 {
					return errors.New("--by workload: --json and --require-saturated judge one merge; run them on a group's recordings")
				}
				return runMergeByWorkload(cmd.OutOrStdout(), &p, args)
			}
			return fmt.Errorf("unknown --by %q (want workload)", p.by)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&p.output, "output", "o", "", "write the merged recording to FILE, - for standard output (the default without --coverage)")
	f.BoolVar(&p.coverage, "coverage", false, "print how many inputs saw each syscall and argument shape")
	f.BoolVarP(&p.quiet, "quiet", "q", false, "do not print the notes of the inputs nor the warning about lost events")
	f.BoolVar(&p.json, "json", false, "print the coverage curve as JSON on standard output (without -o, only the curve)")
	f.IntVar(&p.requireSaturated, "require-saturated", 0, "exit 4 when any of the last `N` inputs added a syscall or an argument shape")
	f.StringVar(&p.by, "by", "", "group the inputs before merging: workload (Kubernetes namespace, workload and container; -o names a directory)")
	return cmd
}

func runMerge(stdout io.Writer, p *mergeParams, paths []string) error {
	// The output first: an unwritable one fails before any work, and a
	// signal while the inputs are read removes its temporary file.
	if err := checkOutputNotInput("merge", p.output, paths); err != nil {
		return err
	}
	if p.json && p.coverage {
		return fmt.Errorf("merge: --json and --coverage both print on standard output: give one")
	}
	if p.requireSaturated < 0 || (p.requireSaturated > 0 && p.requireSaturated >= len(paths)) {
		return fmt.Errorf("merge: --require-saturated %d: needs 1 to %d for %d inputs (the first input always adds something)", p.requireSaturated, len(paths)-1, len(paths))
	}
	var out *fileio.File
	if p.output != "" || !(p.coverage || p.json) {
		o := p.output
		if o == "" {
			o = fileio.Stdout
		}
		var err error
		if out, err = fileio.Create(o, stdout); err != nil {
			return err
		}
		defer out.Abort()
	}
	recs, err := readRecordings(paths)
	if err != nil {
		return err
	}
	m := recs.Recording
	recs.printNotes(p.quiet)
	if loss := lossText(m); loss != "" && !p.quiet {
		fmt.Fprintf(os.Stderr, "profgen: warning: %s\n", loss)
	}
	if out != nil {
		if err := m.Encode(out); err != nil {
			return fmt.Errorf("write %s: %w", out.Name(), err)
		}
		if err := out.Commit(); err != nil {
			return err
		}
	}
	curve := recording.Curve(recs.inputs...)
	switch {
	case p.json:
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(curve); err != nil {
			return err
		}
	case !p.quiet:
		if err := writeCurve(os.Stderr, m.Arch, paths, curve); err != nil {
			return err
		}
	}
	if p.coverage {
		if err := writeCoverage(stdout, m); err != nil {
			return err
		}
	}
	if p.requireSaturated > 0 {
		if late := recording.Unsaturated(curve, p.requireSaturated); len(late) > 0 {
			inputs := make([]string, len(late))
			for i, st := range late {
				inputs[i] = fmt.Sprintf("%d (%s)", st.Input, paths[st.Input-1])
			}
			return &exitError{code: exitcode.NotSaturated, err: fmt.Errorf("merge: not saturated: input %s of the last %d added syscalls or argument shapes", strings.Join(inputs, ", "), p.requireSaturated)}
		}
	}
	return nil
}

// maxNamed is how many new syscalls or shapes a line of the curve names;
// beyond that it counts them.
const maxNamed = 6

// writeCurve prints the coverage curve of the inputs read from paths.
func writeCurve(w io.Writer, arch string, paths []string, curve []recording.Step) error {
	fmt.Fprintf(w, "coverage curve over %d input(s), in order:\n", len(curve))
	for _, st := range curve {
		line := fmt.Sprintf("  input %d %s: ", st.Input, paths[st.Input-1])
		if !st.Added() {
			line += "nothing new"
		} else {
			line += fmt.Sprintf("+%d syscall(s), +%d argument shape(s)", len(st.NewSyscalls), len(st.NewShapes))
			var named []string
			if len(st.NewSyscalls) > 0 && len(st.NewSyscalls) <= maxNamed {
				named = append(named, strings.Join(st.NewSyscalls, " "))
			}
			if len(st.NewShapes) > 0 && len(st.NewShapes) <= maxNamed {
				for _, sh := range st.NewShapes {
					named = append(named, shapeText(abi.Arch(arch), sh))
				}
			}
			if len(named) > 0 {
				line += ": " + strings.Join(named, ", ")
			}
		}
		fmt.Fprintf(w, "%s (then %d syscalls, %d shapes)\n", line, st.Syscalls, st.Shapes)
	}
	last := len(curve)
	for last > 0 && !curve[last-1].Added() {
		last--
	}
	var verdict string
	switch {
	case len(curve) == 1:
		verdict = "one input: saturation unknown (merge several runs, in the order they were recorded)"
	case last == len(curve):
		verdict = fmt.Sprintf("not saturated: the last input (%d) still added something", last)
	default:
		verdict = fmt.Sprintf("saturated over the last %d input(s): the last new syscall or shape came from input %d", len(curve)-last, last)
	}
	_, err := fmt.Fprintln(w, verdict)
	return err
}

// shapeText renders a new argument shape: "socket(domain=AF_NETLINK
// type=SOCK_RAW protocol=0x0)", with names where argspec has them.
func shapeText(arch abi.Arch, sh recording.NewShape) string {
	parts := make([]string, 0, len(sh.Values))
	for k, v := range sh.Values {
		if k >= len(sh.Args) {
			break
		}
		a := sh.Args[k]
		parts = append(parts, a.Name+"="+learn.ArgText(arch, sh.Syscall, a.Index, uint64(v)&uint64(a.Mask)))
	}
	return sh.Syscall + "(" + strings.Join(parts, " ") + ")"
}

// writeCoverage prints how many inputs saw each syscall and argument shape.
func writeCoverage(w io.Writer, r *recording.Recording) error {
	fmt.Fprintf(w, "# %d input(s), architecture %s\n", r.Inputs, r.Arch)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SYSCALL\tSEEN\tCOUNT\tARGUMENTS")
	for _, s := range r.Syscalls {
		args := "-"
		if s.Unpinned {
			args = "not captured"
		}
		fmt.Fprintf(tw, "%s\t%d/%d\t%d\t%s\n", s.Name, s.Seen, r.Inputs, s.Count, args)
		for _, sh := range s.Shapes {
			parts := make([]string, len(sh.Values))
			for k, v := range sh.Values {
				parts[k] = fmt.Sprintf("%s=%#x", s.Args[k].Name, uint64(v))
			}
			fmt.Fprintf(tw, "\t%d/%d\t%d\t%s\n", sh.Seen, r.Inputs, sh.Count, strings.Join(parts, " "))
		}
	}
	return tw.Flush()
}
