package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/profgen/profgen/recording"
)

// TestEmitMergeNotes: emit and merge print each note of their inputs, and
// an interrupted input, on standard error, one line each naming the input;
// --quiet silences them (and the warning about lost events).
func TestEmitMergeNotes(t *testing.T) {
	dir := t.TempDir()
	const filtered = "recorded under the engine's seccomp filter (kept by the io.profgen.keep-filter annotation): calls it refused are missing"
	a := writeRecording(t, dir, "a.json", func(r *recording.Recording) {
		r.Notes = []string{filtered, "a note\nthat spans two lines"}
	})
	b := writeRecording(t, dir, "b.json", func(r *recording.Recording) {
		r.Interrupted = true
	})
	plain := writeRecording(t, dir, "plain.json", nil)
	wantA := []string{
		"profgen: note: recording " + a + ": " + filtered,
		"profgen: note: recording " + a + ": a note that spans two lines",
	}
	wantB := []string{"profgen: note: recording " + b + ": interrupted: a signal stopped the recording before its target ended, so it may miss what the target does later"}
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"emit", []string{"emit", "-o", filepath.Join(dir, "p.json"), a, b}, append(append([]string{}, wantA...), wantB...)},
		{"emit text", []string{"emit", "--format", "text", b}, wantB},
		{"emit plain", []string{"emit", "-o", filepath.Join(dir, "p.json"), plain}, nil},
		{"merge", []string{"merge", "-o", filepath.Join(dir, "m.json"), b, a}, append(append([]string{}, wantB...), wantA...)},
		{"merge coverage", []string{"merge", "--coverage", a}, wantA},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runProfgen(t, dir, tc.args...)
			if r.code != 0 {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			var got []string
			// merge's coverage curve follows the notes.
			stderr, _, _ := strings.Cut(r.stderr, "coverage curve over ")
			if s := strings.TrimRight(stderr, "\n"); s != "" {
				got = strings.Split(s, "\n")
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("stderr:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			q := runProfgen(t, dir, append([]string{tc.args[0], "--quiet"}, tc.args[1:]...)...)
			if q.code != 0 || q.stderr != "" {
				t.Errorf("--quiet: exit %d, stderr %q", q.code, q.stderr)
			}
		})
	}
	// The merged recording keeps the notes: emit of it prints them.
	r := runProfgen(t, dir, "emit", "-o", filepath.Join(dir, "p.json"), filepath.Join(dir, "m.json"))
	if m := filepath.Join(dir, "m.json"); r.code != 0 || !strings.Contains(r.stderr, "recording "+m+": "+filtered+"\n") || !strings.Contains(r.stderr, "recording "+m+": interrupted") {
		t.Errorf("emit of the merge: exit %d, stderr %q", r.code, r.stderr)
	}
	// Lost events: the warning is silenced by --quiet too; the output
	// stays marked.
	lossy := writeRecording(t, dir, "lossy.json", func(r *recording.Recording) { r.Lost = 3 })
	if r := runProfgen(t, dir, "emit", "--allow-incomplete", "--quiet", "--format", "text", lossy); r.code != 0 || r.stderr != "" || !strings.HasPrefix(r.stdout, "# INCOMPLETE") {
		t.Errorf("emit --allow-incomplete --quiet: exit %d, stderr %q, stdout %q", r.code, r.stderr, r.stdout)
	}
	if r := runProfgen(t, dir, "merge", "--quiet", lossy); r.code != 0 || r.stderr != "" {
		t.Errorf("merge --quiet of a lossy recording: exit %d, stderr %q", r.code, r.stderr)
	}
}
