package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/profgen/profgen/internal/fileio"
	"github.com/profgen/profgen/recording"
)

type mergeParams struct {
	output   string
	coverage bool
	// quiet silences the notes of the inputs and the warning about lost
	// events.
	quiet bool
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

--by workload merges recordings of Kubernetes pods' containers (made by
profgen-runc through containerd or CRI-O) per (namespace, workload,
container name), the workload from the pod names' owner part (a
Deployment's web-7d9f8c6b5-x2x9k and a StatefulSet's web-0 are both web's;
docs/cli.md gives the rules and their limits). The inputs may be
directories, read for *.json files (recursively). -o names the directory
the merged recordings go to, one per group, NAMESPACE_WORKLOAD_CONTAINER.json;
merge prints each group with how many of its replicas (pods) were seen
running to their end: "seen N/M replicas". A recording that names no pod is
refused.`,
		Example: `  profgen merge -o merged.json run1.json run2.json run3.json
  profgen merge --coverage -o merged.json runs/*.json
  profgen emit --format oci -o seccomp.json merged.json
  profgen merge --by workload -o by-workload/ node-*/recordings/
  profgen emit --format k8s -o web.yaml by-workload/shop_web_srv.json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch p.by {
			case "":
				return runMerge(cmd.OutOrStdout(), &p, args)
			case "workload":
				return runMergeByWorkload(cmd.OutOrStdout(), &p, args)
			}
			return fmt.Errorf("unknown --by %q (want workload)", p.by)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&p.output, "output", "o", "", "write the merged recording to FILE, - for standard output (the default without --coverage)")
	f.BoolVar(&p.coverage, "coverage", false, "print how many inputs saw each syscall and argument shape")
	f.BoolVarP(&p.quiet, "quiet", "q", false, "do not print the notes of the inputs nor the warning about lost events")
	f.StringVar(&p.by, "by", "", "group the inputs before merging: workload (Kubernetes namespace, workload and container; -o names a directory)")
	return cmd
}

func runMerge(stdout io.Writer, p *mergeParams, paths []string) error {
	// The output first: an unwritable one fails before any work, and a
	// signal while the inputs are read removes its temporary file.
	if err := checkOutputNotInput("merge", p.output, paths); err != nil {
		return err
	}
	var out *fileio.File
	if p.output != "" || !p.coverage {
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
	if p.coverage {
		return writeCoverage(stdout, m)
	}
	return nil
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
