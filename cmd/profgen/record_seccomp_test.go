package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/seccomp"
	"github.com/profgen/profgen/recording"
)

// seccompWrapperEnv, set in the environment of this test binary, makes
// it a wrapper (see init): it loads a seccomp filter that allows
// everything and execs the command of its arguments, as a container or
// systemd's SystemCallFilter= would run profgen.
const seccompWrapperEnv = "PROFGEN_TEST_SECCOMP_WRAPPER"

func init() {
	if os.Getenv(seccompWrapperEnv) == "" {
		return
	}
	argv := os.Args[1:]
	if len(argv) == 0 {
		os.Exit(2)
	}
	env := slices.DeleteFunc(os.Environ(), func(e string) bool { return strings.HasPrefix(e, seccompWrapperEnv+"=") })
	runtime.LockOSThread()
	allow := []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW}}
	_, err := seccomp.Exec(allow, 0, argv[0], argv, env)
	os.Stderr.WriteString("seccomp wrapper: " + err.Error() + "\n")
	os.Exit(2)
}

// TestRecordUnderSeccomp: profgen record run under a seccomp filter warns,
// in one line on standard error, that calls the filter refuses are
// invisible to it, and the recording carries the same note; run without
// one, it does not.
func TestRecordUnderSeccomp(t *testing.T) {
	bin := buildProfgen(t)
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], bin, "record", "-o", "rec.json", "--", "true")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), seccompWrapperEnv+"=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("profgen record under a seccomp filter: %v\n%s", err, stderr.String())
	}
	const want = "profgen: warning: profgen itself runs under a seccomp filter (Seccomp: 2 in /proc/self/status;"
	var warnings []string
	for _, l := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(l, "runs under") {
			warnings = append(warnings, l)
		}
	}
	if len(warnings) != 1 || !strings.HasPrefix(warnings[0], want) || !strings.Contains(warnings[0], "missing from the recording") {
		t.Errorf("stderr %q: want one warning line starting %q", stderr.String(), want)
	}
	rec, err := recording.ReadFile(filepath.Join(dir, "rec.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(rec.Notes, func(n string) bool { return strings.Contains(n, "runs under a seccomp filter") }) {
		t.Errorf("the recording has no note of the filter: %q", rec.Notes)
	}

	// Without a filter: no warning, no note.
	r := runProfgen(t, dir, "record", "-o", "plain.json", "--", "true")
	if r.code != 0 || strings.Contains(r.stderr, "seccomp") {
		t.Errorf("without a filter: exit %d, stderr %q", r.code, r.stderr)
	}
	plain, err := recording.ReadFile(filepath.Join(dir, "plain.json"))
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(plain.Notes, func(n string) bool { return strings.Contains(n, "seccomp") }) {
		t.Errorf("without a filter, the recording has a note of one: %q", plain.Notes)
	}
}
