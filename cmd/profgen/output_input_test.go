package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOutputIsInput: emit and merge refuse an output that is one of their
// inputs — the same path, another path to it, a symbolic or hard link to
// it, standard input redirected from it, a read-only one — with one line,
// a non-zero exit, and the input untouched; the default recording counts
// as an input.
func TestOutputIsInput(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(dir string)
		stdin string // a file of dir given as standard input
		args  []string
		want  string
	}{
		{"emit same path", nil, "", []string{"emit", "-o", "rec.json", "rec.json"}, "output rec.json is the input rec.json (the same file): emit would replace its own input"},
		{"emit another path", nil, "", []string{"emit", "-o", "./sub/../rec.json", "other.json", "rec.json"}, "output ./sub/../rec.json is the input rec.json"},
		{"emit read-only", func(dir string) { os.Chmod(filepath.Join(dir, "rec.json"), 0o444) }, "", []string{"emit", "--format", "text", "-o", "rec.json", "rec.json"}, "output rec.json is the input rec.json"},
		{"emit through a symbolic link", func(dir string) { os.Symlink("rec.json", filepath.Join(dir, "link.json")) }, "", []string{"emit", "-o", "link.json", "rec.json"}, "output link.json is the input rec.json"},
		{"emit input through a symbolic link", func(dir string) { os.Symlink("rec.json", filepath.Join(dir, "link.json")) }, "", []string{"emit", "-o", "rec.json", "link.json"}, "output rec.json is the input link.json"},
		{"emit hard link", func(dir string) { os.Link(filepath.Join(dir, "rec.json"), filepath.Join(dir, "hard.json")) }, "", []string{"emit", "-o", "hard.json", "rec.json"}, "output hard.json is the input rec.json"},
		{"emit default recording", func(dir string) { os.Rename(filepath.Join(dir, "rec.json"), filepath.Join(dir, defaultRecording)) }, "", []string{"emit", "-o", defaultRecording}, "output " + defaultRecording + " is the input " + defaultRecording},
		{"emit standard input", nil, "rec.json", []string{"emit", "-o", "rec.json", "-"}, "output rec.json is the input standard input"},
		{"merge", nil, "", []string{"merge", "-o", "rec.json", "other.json", "rec.json"}, "output rec.json is the input rec.json (the same file): merge would replace its own input"},
		{"merge coverage", nil, "", []string{"merge", "--coverage", "-o", "other.json", "other.json", "rec.json"}, "output other.json is the input other.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.Mkdir(filepath.Join(dir, "sub"), 0o755)
			writeRecording(t, dir, "rec.json", nil)
			writeRecording(t, dir, "other.json", addSyscall("getpid", 39))
			if tc.setup != nil {
				tc.setup(dir)
			}
			before := snapshot(t, dir)
			var stdin *os.File
			if tc.stdin != "" {
				f, err := os.Open(filepath.Join(dir, tc.stdin))
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				stdin = f
			}
			r := runGuarded(t, dir, stdin, tc.args...)
			if r.code == 0 {
				t.Errorf("exit 0, want non-zero")
			}
			if lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n"); len(lines) != 1 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr = %q, want one line containing %q", r.stderr, tc.want)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q", r.stdout)
			}
			if after := snapshot(t, dir); after != before {
				t.Errorf("the directory changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
	// A different output is written as before.
	dir := t.TempDir()
	writeRecording(t, dir, "rec.json", nil)
	if r := runProfgen(t, dir, "emit", "-o", "seccomp.json", "rec.json"); r.code != 0 {
		t.Errorf("emit -o seccomp.json rec.json: exit %d, %s", r.code, r.stderr)
	}
	if r := runProfgen(t, dir, "merge", "-o", "m.json", "rec.json"); r.code != 0 {
		t.Errorf("merge -o m.json rec.json: exit %d, %s", r.code, r.stderr)
	}
}

// snapshot is the names, modes and contents of the files of dir.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		data := []byte{}
		if info.Mode().IsRegular() {
			data, _ = os.ReadFile(path)
		}
		b.WriteString(path + " " + info.Mode().String() + " " + string(data) + "\n")
		return nil
	})
	return b.String()
}
