package learn_test

import (
	"bytes"
	"flag"
	"path/filepath"
	"testing"

	"github.com/profgen/profgen/emit"
	"github.com/profgen/profgen/internal/testenv"
	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/recording"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// readRecording reads a recording from testdata.
func readRecording(t *testing.T, name string) *recording.Recording {
	t.Helper()
	rec, err := recording.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// learnFile learns a profile from a testdata recording.
func learnFile(t *testing.T, name string, opts learn.Options) *learn.Profile {
	t.Helper()
	p, err := learn.FromRecording(readRecording(t, name), opts)
	if err != nil {
		t.Fatalf("learn %s: %v", name, err)
	}
	return p
}

// TestGolden learns profiles from fixed recordings and compares their text
// rendering, which shows every rule, with the golden files.
func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		golden, recording string
		opts              learn.Options
	}{
		{"shapes.golden", "shapes.json", learn.Options{Runtime: learn.LoaderNone}},
		{"shapes-none.golden", "shapes.json", learn.Options{Args: learn.ArgsNone}},
		{"shapes-max1.golden", "shapes.json", learn.Options{MaxValues: 1}},
		{"manyvalues.golden", "manyvalues.json", learn.Options{}},
		{"logbackend.golden", "logbackend.json", learn.Options{DefaultAction: &learn.KillProcess}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			p := learnFile(t, tc.recording, tc.opts)
			var b bytes.Buffer
			if err := emit.WriteText(&b, p); err != nil {
				t.Fatal(err)
			}
			testenv.Golden(t, tc.golden, b.Bytes(), *update)
		})
	}
}
