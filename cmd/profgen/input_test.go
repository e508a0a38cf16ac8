package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/recording"
)

// runGuarded runs profgen like runProfgen, with stdin, and kills it when it
// has not ended after a minute (an input that blocks must not hang the
// suite); a killed run fails the test.
func runGuarded(t *testing.T, dir string, stdin *os.File, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, buildProfgen(t), args...)
	cmd.Dir, cmd.Stdin = dir, stdin
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("profgen %v did not end: %v", args, err)
	}
	var ee *exec.ExitError
	code := 0
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// TestUntrustedInputs: a FIFO (no writer: opening it for reading would
// block), /dev/zero (never ends) and /etc/shadow (a secret, not JSON) as
// any input of any command, or as a recording's base, give one line at
// once naming the file and none of its content; no output is written.
func TestUntrustedInputs(t *testing.T) {
	dir := t.TempDir()
	good := writeRecording(t, dir, "good.json", nil)
	prof := filepath.Join(dir, "prof.json")
	if r := runProfgen(t, dir, "emit", "-o", prof, good); r.code != 0 {
		t.Fatalf("emit: %s", r.stderr)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	shadow, err := os.ReadFile("/etc/shadow")
	if err != nil || len(shadow) == 0 {
		t.Fatalf("/etc/shadow: %v", err)
	}
	for _, bad := range []struct{ path, want string }{
		{fifo, "FIFO, not a regular file"},
		{"/dev/zero", "character device, not a regular file"},
		{"/etc/shadow", "/etc/shadow"},
	} {
		withBase := writeRecording(t, dir, "base-"+filepath.Base(bad.path)+".json", func(r *recording.Recording) {
			r.Backend, r.Base, r.ArgShapes = recording.BackendLog, bad.path, false
			for i := range r.Syscalls {
				r.Syscalls[i].Args, r.Syscalls[i].Shapes, r.Syscalls[i].Unpinned = nil, nil, true
			}
		})
		for _, args := range [][]string{
			{"emit", "-o", "OUT", bad.path},
			{"emit", "-o", "OUT", good, bad.path},
			{"emit", "-o", "OUT", withBase},
			{"merge", "-o", "OUT", good, bad.path},
			{"diff", good, bad.path},
			{"diff", bad.path, prof},
			{"replay", "--static", "--profile", bad.path, good},
			{"replay", "--static", "--profile", prof, bad.path},
			{"record", "--backend", "log", "--base", bad.path, "-o", "OUT", "--", "true"},
		} {
			out := t.TempDir()
			for i, a := range args {
				if a == "OUT" {
					args[i] = filepath.Join(out, "out.json")
				}
			}
			r := runGuarded(t, dir, nil, args...)
			if r.code == 0 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, bad.want) {
				t.Errorf("%v: exit %d, stderr %q: want one line containing %q", args, r.code, r.stderr, bad.want)
			}
			if bad.path == "/etc/shadow" && (strings.Contains(r.stderr, "'"+string(shadow[0])+"'") || strings.Contains(r.stderr, string(shadow[:min(len(shadow), 8)]))) {
				t.Errorf("%v: the error quotes /etc/shadow: %q", args, r.stderr)
			}
			if entries, _ := os.ReadDir(out); len(entries) != 0 {
				t.Errorf("%v: wrote %v", args, entries)
			}
		}
	}
	// Standard input: - reads it, a device there is refused.
	in, err := os.Open(good)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if r := runGuarded(t, dir, in, "emit", "--format", "text", "-"); r.code != 0 || !strings.Contains(r.stdout, "socket") {
		t.Errorf("emit - <good.json: exit %d, %s%s", r.code, r.stdout, r.stderr)
	}
	zero, err := os.Open("/dev/zero")
	if err != nil {
		t.Fatal(err)
	}
	defer zero.Close()
	if r := runGuarded(t, dir, zero, "emit", "-"); r.code == 0 || !strings.Contains(r.stderr, "standard input: a character device") {
		t.Errorf("emit - </dev/zero: exit %d, %q", r.code, r.stderr)
	}
	if r := runGuarded(t, dir, nil, "diff", "-", "-"); r.code != 2 || !strings.Contains(r.stderr, "more than once") {
		t.Errorf("diff - -: exit %d, %q", r.code, r.stderr)
	}
}

// TestEmitMaxValues: --max-values below 1 is refused, naming the default
// and --args none.
func TestEmitMaxValues(t *testing.T) {
	dir := t.TempDir()
	good := writeRecording(t, dir, "good.json", nil)
	for _, v := range []string{"-1", "0"} {
		out := t.TempDir()
		r := runProfgen(t, out, "emit", "--max-values", v, "-o", filepath.Join(out, "p.json"), good)
		assertFailedCleanly(t, r, out, "--max-values "+v+": must be at least 1 (the default is")
	}
}
