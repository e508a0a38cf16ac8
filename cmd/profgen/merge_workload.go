package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/profgen/profgen/internal/fileio"
	"github.com/profgen/profgen/recording"
)

// runMergeByWorkload is merge --by workload: the inputs (files, or
// directories read for *.json) grouped by recording.GroupByWorkload, each
// group merged into p.output/NAMESPACE_WORKLOAD_CONTAINER.json. Every
// group is merged before any file is written.
func runMergeByWorkload(stdout io.Writer, p *mergeParams, args []string) error {
	if p.output == "" || p.output == fileio.Stdout {
		return errors.New("merge --by workload: -o DIR is required: the directory the merged recordings go to")
	}
	if st, err := os.Stat(p.output); err == nil && !st.IsDir() {
		return fmt.Errorf("merge --by workload: -o %s is not a directory", p.output)
	}
	paths, err := recordingFiles(args)
	if err != nil {
		return err
	}
	recs := make([]*recording.Recording, len(paths))
	for i, path := range paths {
		if recs[i], err = recording.ReadFile(path); err != nil {
			return err
		}
	}
	groups, err := recording.GroupByWorkload(paths, recs)
	if err != nil {
		return fmt.Errorf("merge --by workload: %w", err)
	}
	merged := make([]*recordings, len(groups))
	for i, g := range groups {
		var gp []string
		var gr []*recording.Recording
		for _, m := range g.Members {
			gp, gr = append(gp, paths[m]), append(gr, recs[m])
		}
		if merged[i], err = mergeRecordings(gp, gr); err != nil {
			return fmt.Errorf("workload %s: %w", g.Key, err)
		}
		if err := checkOutputNotInput("merge", filepath.Join(p.output, g.Key.FileName()), paths); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(p.output, 0o777); err != nil {
		return fmt.Errorf("merge --by workload: %w", err)
	}
	for i, g := range groups {
		m := merged[i]
		m.printNotes(p.quiet)
		if loss := lossText(m.Recording); loss != "" && !p.quiet {
			fmt.Fprintf(os.Stderr, "profgen: warning: %s: %s\n", g.Key, loss)
		}
		path := filepath.Join(p.output, g.Key.FileName())
		out, err := fileio.Create(path, stdout)
		if err != nil {
			return err
		}
		if err := m.Encode(out); err != nil {
			out.Abort()
			return fmt.Errorf("write %s: %w", path, err)
		}
		if err := out.Commit(); err != nil {
			return err
		}
		w := m.Workload
		line := fmt.Sprintf("%s: %d recording(s), seen %d/%d replicas -> %s", g.Key, len(g.Members), w.Seen(), len(w.Pods), path)
		if len(w.Unseen) > 0 {
			line += " (not seen: " + strings.Join(w.Unseen, ", ") + ")"
		}
		fmt.Fprintln(stdout, line)
		if p.coverage {
			if err := writeCoverage(stdout, m.Recording); err != nil {
				return err
			}
		}
	}
	return nil
}

// recordingFiles returns the files of args: each file itself, each
// directory's *.json files (recursively, in lexical order).
func recordingFiles(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, a)
			continue
		}
		n := len(out)
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasSuffix(p, ".json") {
				out = append(out, p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if len(out) == n {
			return nil, fmt.Errorf("%s: no recordings (*.json) in the directory", a)
		}
	}
	return out, nil
}
