package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/profgen/profgen/internal/exitcode"
	"github.com/profgen/profgen/recording"
)

// TestRecordReadOnlyOutput: record -o on a read-only file system fails
// before the target starts (the target would leave a file), with profgen's
// own exit status and one line.
func TestRecordReadOnlyOutput(t *testing.T) {
	dir := t.TempDir()
	script := `
mkdir ro
mount -t tmpfs -o ro profgen-test-ro ro
set +e
"$P" record -o ro/rec.json -- sh -c 'echo ran > ran' 2>stderr
echo $? >code
`
	if out, err := runPrivate(t, dir, script); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	code, _ := os.ReadFile(filepath.Join(dir, "code"))
	stderr, _ := os.ReadFile(filepath.Join(dir, "stderr"))
	if strings.TrimSpace(string(code)) != "125" {
		t.Errorf("exit %s, want %d (profgen's own failure)", code, exitcode.Tool)
	}
	if !strings.Contains(string(stderr), "read-only file system") || strings.Count(string(stderr), "\n") != 1 {
		t.Errorf("stderr %q: want one line naming the read-only file system", stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "ran")); err == nil {
		t.Error("the target ran although the output could not be written")
	}
}

// TestRecordLateWriteFailure: when writing the recording fails after the
// target ran (a full file system), the recording is kept in $TMPDIR, the
// error says where, and profgen exits with its own status.
func TestRecordLateWriteFailure(t *testing.T) {
	dir := t.TempDir()
	keep := filepath.Join(dir, "keep")
	os.Mkdir(keep, 0o700)
	script := `
mkdir full
mount -t tmpfs -o size=4k profgen-test-full full
set +e
TMPDIR=` + keep + ` "$P" record -o full/rec.json -- sh -c 'echo ran > ran' 2>stderr
echo $? >code
ls -A full >left
`
	if out, err := runPrivate(t, dir, script); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	code, _ := os.ReadFile(filepath.Join(dir, "code"))
	stderr, _ := os.ReadFile(filepath.Join(dir, "stderr"))
	left, _ := os.ReadFile(filepath.Join(dir, "left"))
	if strings.TrimSpace(string(code)) != "125" {
		t.Errorf("exit %s, want %d; stderr %q", code, exitcode.Tool, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "ran")); err != nil {
		t.Fatalf("the target did not run: %v", err)
	}
	m := regexp.MustCompile(`the recording was kept in (\S+)`).FindSubmatch(stderr)
	if m == nil || !strings.Contains(string(stderr), "no space left on device") {
		t.Fatalf("stderr %q: want the write error and where the recording is", stderr)
	}
	rec, err := recording.ReadFile(string(m[1]))
	if err != nil || rec.Lookup("execve") == nil || filepath.Dir(string(m[1])) != keep {
		t.Errorf("kept recording %s: %v", m[1], err)
	}
	if strings.TrimSpace(string(left)) != "" {
		t.Errorf("left on the full file system: %q", left)
	}
}
