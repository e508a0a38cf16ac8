package main

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/profgen/profgen/internal/exitcode"
	"github.com/profgen/profgen/internal/workload"
	"github.com/profgen/profgen/readers"
	"github.com/profgen/profgen/recording"
)

// TestLostEvents: a target with more distinct (syscall, shape) pairs than
// --max-shapes loses events, the two calls it makes last among them;
// record's warning names --max-shapes; emit refuses the recording naming
// the loss, --allow-incomplete marks every format; replay --static and diff
// give no verdict. With the map sized big enough the same target records
// with lost 0 and replays clean.
func TestLostEvents(t *testing.T) {
	dir := t.TempDir()
	bin := workload.Build(t, "manyshapes")
	const n = "2000"

	r := runProfgen(t, dir, "record", "--max-shapes", "256", "-o", "lossy.json", "--", bin, n)
	if r.code != 0 || !strings.Contains(r.stderr, "--max-shapes (it was 256)") {
		t.Fatalf("record --max-shapes 256: exit %d, stderr %q", r.code, r.stderr)
	}
	lossy, err := recording.ReadFile(filepath.Join(dir, "lossy.json"))
	if err != nil {
		t.Fatal(err)
	}
	// prctl's new shape found the map full; sched_yield, with no captured
	// argument, is counted by number and never lost.
	if lossy.Lost == 0 || lossy.Lookup("prctl") != nil || lossy.Lookup("sched_yield") == nil {
		t.Fatalf("a 256-entry map held %d syscalls, lost %d, prctl %v, sched_yield %v", len(lossy.Syscalls), lossy.Lost, lossy.Lookup("prctl") != nil, lossy.Lookup("sched_yield") != nil)
	}

	// emit refuses, naming the loss, and writes nothing.
	out := t.TempDir()
	r = runProfgen(t, dir, "emit", "-o", filepath.Join(out, "p.json"), "lossy.json")
	assertFailedCleanly(t, r, out, "lost "+itoa(lossy.Lost)+" syscall events")
	if r.code != exitcode.Failed || !strings.Contains(r.stderr, "--allow-incomplete") {
		t.Errorf("emit of a lossy recording: exit %d, %q", r.code, r.stderr)
	}

	// --allow-incomplete marks every format.
	for _, c := range []struct{ format, mark string }{
		{"oci", `"profgenIncomplete": "INCOMPLETE: the recording lost`},
		{"text", "# INCOMPLETE: the recording lost"},
		{"c", "/* INCOMPLETE: the recording lost"},
		{"go", "// INCOMPLETE: the recording lost"},
	} {
		path := filepath.Join(dir, "incomplete."+c.format)
		r := runProfgen(t, dir, "emit", "--allow-incomplete", "--runtime", "none", "--format", c.format, "-o", path, "lossy.json")
		data, _ := os.ReadFile(path)
		if r.code != 0 || !strings.Contains(r.stderr, "marked incomplete") {
			t.Errorf("emit --allow-incomplete --format %s: exit %d, %q", c.format, r.code, r.stderr)
		}
		if !strings.Contains(string(data), c.mark) || strings.Index(string(data), c.mark) > 4 {
			t.Errorf("--format %s output does not start with %q:\n%.300s", c.format, c.mark, data)
		}
		switch c.format {
		case "oci":
			if _, err := readers.ReadOCIFile(path); err != nil {
				t.Errorf("marked OCI profile: %v", err)
			}
		case "go":
			if _, err := parser.ParseFile(token.NewFileSet(), path, data, parser.PackageClauseOnly); err != nil {
				t.Errorf("marked Go source: %v", err)
			}
		}
	}

	// replay --static and diff give no verdict.
	r = runProfgen(t, dir, "replay", "--static", "--profile", filepath.Join(dir, "incomplete.oci"), "lossy.json")
	if r.code != exitcode.NoVerdict || !strings.Contains(r.stdout, "NO VERDICT") || strings.Contains(r.stdout, "PASS") || !strings.Contains(r.stderr, "lost") ||
		!strings.Contains(r.stderr, "note: profile "+filepath.Join(dir, "incomplete.oci")+": learned from recordings that lost events") {
		t.Errorf("replay --static of a lossy recording: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runProfgen(t, dir, "diff", filepath.Join(dir, "incomplete.oci"), "lossy.json")
	if r.code != exitcode.NoVerdict || !strings.Contains(r.stdout, "NO VERDICT") || !strings.Contains(r.stdout, "incomplete: NEW: the recording lost") {
		t.Errorf("diff against a lossy recording: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// Sized big enough: nothing lost, the last calls are there, clean.
	r = runProfgen(t, dir, "record", "--max-shapes", "65536", "-o", "full.json", "--", bin, n)
	if r.code != 0 || strings.Contains(r.stderr, "warning") {
		t.Fatalf("record --max-shapes 65536: exit %d, stderr %q", r.code, r.stderr)
	}
	full, err := recording.ReadFile(filepath.Join(dir, "full.json"))
	if err != nil {
		t.Fatal(err)
	}
	if full.Lost != 0 || full.Lookup("prctl") == nil || full.Lookup("sched_yield") == nil || full.Lookup("getpgid") == nil {
		t.Fatalf("lost %d, syscalls %v", full.Lost, full.Names())
	}
	if ioctl := full.Lookup("ioctl"); ioctl == nil || len(ioctl.Shapes) < 2000 {
		t.Errorf("ioctl shapes: %+v", ioctl)
	}
	if r := runProfgen(t, dir, "emit", "-o", "full-p.json", "full.json"); r.code != 0 {
		t.Fatalf("emit: %s", r.stderr)
	}
	r = runProfgen(t, dir, "replay", "--static", "--profile", "full-p.json", "full.json")
	if r.code != exitcode.OK || !strings.Contains(r.stdout, "PASS") {
		t.Errorf("replay --static: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runProfgen(t, dir, "diff", "full-p.json", "full.json")
	if r.code != exitcode.OK || !strings.Contains(r.stdout, "OK:") {
		t.Errorf("diff: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestRecordMaxShapesFlag: --max-shapes out of range, or with the log
// backend, is refused before the target starts.
func TestRecordMaxShapesFlag(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--max-shapes", "0"}, "--max-shapes 0: must be within 1..16777216"},
		{[]string{"--max-shapes", "16777217"}, "must be within"},
		{[]string{"--backend", "log", "--max-shapes", "100"}, "--max-shapes sizes the ebpf backend's map"},
	} {
		r := runProfgen(t, dir, append(append([]string{"record"}, c.args...), "--", "touch", "ran")...)
		assertOneLineError(t, r, dir, c.want)
		if r.code != exitcode.Tool {
			t.Errorf("%v: exit %d, want %d", c.args, r.code, exitcode.Tool)
		}
	}
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }
