package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/internal/enginetest"
	"github.com/profgen/profgen/internal/exitcode"
)

// writeProfile writes an OCI profile allowing names into dir and returns
// its path.
func writeProfile(t *testing.T, dir, file string, names ...string) string {
	t.Helper()
	arch, err := abi.Native()
	if err != nil {
		t.Fatal(err)
	}
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = strconv.Quote(n)
	}
	doc := fmt.Sprintf(`{"defaultAction":"SCMP_ACT_ERRNO","architectures":[%q],"syscalls":[{"names":[%s],"action":"SCMP_ACT_ALLOW"}]}`,
		arch.OCI(), strings.Join(quoted, ","))
	path := filepath.Join(dir, file)
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// recordAndEmit records command with the eBPF backend and emits its OCI
// profile into dir; it returns the recording's and the profile's paths.
func recordAndEmit(t *testing.T, dir string, command ...string) (string, string) {
	t.Helper()
	rec, prof := filepath.Join(dir, "rec.json"), filepath.Join(dir, "p.json")
	r := runProfgen(t, dir, append([]string{"record", "-o", rec, "--"}, command...)...)
	if _, err := os.Stat(rec); err != nil {
		t.Fatalf("record %v: exit %d, %v: %s", command, r.code, err, r.stderr)
	}
	if r := runProfgen(t, dir, "emit", "-o", prof, rec); r.code != 0 {
		t.Fatalf("emit: exit %d: %s", r.code, r.stderr)
	}
	return rec, prof
}

// Bad input fails with one line, exit status 2, and runs nothing: the
// command would create the file "ran" in the working directory.
func TestReplayBadInput(t *testing.T) {
	profiles := t.TempDir()
	good := writeProfile(t, profiles, "good.json", "read")
	unknown := writeProfile(t, profiles, "unknown.json", "read", "nosuchcall")
	malformed := filepath.Join(profiles, "malformed.json")
	if err := os.WriteFile(malformed, []byte(`{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [`), 0o644); err != nil {
		t.Fatal(err)
	}
	run := []string{"--", "sh", "-c", "touch ran"}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no command", []string{"--profile", good}, "no command given"},
		{"no profile", run, "no profile given"},
		{"missing profile", append([]string{"--profile", filepath.Join(profiles, "none.json")}, run...), "no such file"},
		{"malformed profile", append([]string{"--profile", malformed}, run...), "invalid profile"},
		{"unknown syscall", append([]string{"--profile", unknown}, run...), `unknown syscall "nosuchcall"`},
		{"missing binary", []string{"--profile", good, "--", "/nonexistent/profgen-workload"}, "/nonexistent/profgen-workload"},
		{"unknown runtime", append([]string{"--profile", good, "--runtime", "kata"}, run...), `unknown --runtime "kata" (want runc, podman, docker or none)`},
		{"engine arg without engine", append([]string{"--profile", good, "--engine-arg=-i"}, run...), "--engine-arg needs --runtime podman or docker"},
		{"ready without drive", append([]string{"--profile", good, "--ready", "delay:1s"}, run...), "--ready needs --drive"},
		{"static without recording", []string{"--static", "--profile", good}, "no recording given"},
		{"static with drive", []string{"--static", "--profile", good, "--drive", "true", "rec.json"}, "--static"},
		{"unknown flag", []string{"--bogus"}, "unknown flag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			r := runProfgen(t, dir, append([]string{"replay"}, tc.args...)...)
			assertOneLineError(t, r, dir, tc.want)
			if r.code != exitcode.Error {
				t.Errorf("exit %d, want %d", r.code, exitcode.Error)
			}
		})
	}
}

// The exit status says what happened: 0 pass, 1 denied, 3 nothing denied
// but the workload failed.
func TestReplayExitCodes(t *testing.T) {
	dir := t.TempDir()
	_, prof := recordAndEmit(t, dir, "sh", "-c", "exit 4")

	r := runProfgen(t, dir, "replay", "--runtime", "none", "--profile", prof, "--", "sh", "-c", "exit 0")
	if r.code != exitcode.OK || !strings.Contains(r.stdout, "PASS") {
		t.Errorf("sh -c 'exit 0': exit %d, stdout %q, stderr %q; want %d and PASS", r.code, r.stdout, r.stderr, exitcode.OK)
	}

	r = runProfgen(t, dir, "replay", "--runtime", "none", "--profile", prof, "--", "sh", "-c", "exit 4")
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	if r.code != exitcode.NoVerdict || len(lines) != 1 || !strings.Contains(r.stderr, "status 4") {
		t.Errorf("sh -c 'exit 4': exit %d, stderr %q; want %d and one line naming status 4", r.code, r.stderr, exitcode.NoVerdict)
	}

	// cat(1) reads a file: sh -c 'exit N' never did, so cat's calls
	// (fadvise64, ...) are denied.
	r = runProfgen(t, dir, "replay", "--runtime", "none", "--profile", prof, "--", "cat", "/etc/hostname")
	if r.code != exitcode.Found || !strings.Contains(r.stdout, "FAIL") || !strings.Contains(r.stdout, "DENIED") {
		t.Errorf("cat: exit %d, stdout %q, stderr %q; want %d and a list of denied calls", r.code, r.stdout, r.stderr, exitcode.Found)
	}
}

// --static checks a recording without running it: the recording passes
// under its own profile and fails, naming the call, without execve.
func TestReplayStatic(t *testing.T) {
	dir := t.TempDir()
	rec, prof := recordAndEmit(t, dir, "sh", "-c", "exit 0")
	r := runProfgen(t, dir, "replay", "--static", "--profile", prof, rec)
	if r.code != exitcode.OK || !strings.Contains(r.stdout, "PASS: static") {
		t.Errorf("static replay: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	broken := filepath.Join(dir, "broken.json")
	enginetest.WithoutSyscall(t, prof, broken, "execve")
	r = runProfgen(t, dir, "replay", "--static", "--profile", broken, rec)
	if r.code != exitcode.Found || !strings.Contains(r.stdout, "execve") {
		t.Errorf("static replay without execve: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// SIGINT to profgen during a replay in runc ends it with no verdict (exit
// 2) and leaves no container behind.
func TestReplayRuncSIGINT(t *testing.T) {
	dir := t.TempDir()
	_, prof := recordAndEmit(t, dir, "sleep", "0.01")
	cmd := exec.Command(buildProfgen(t), "replay", "--runtime", "runc", "--profile", prof, "--", "sleep", "100")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	prefix := fmt.Sprintf("profgen-replay-%d-", cmd.Process.Pid)
	containers := func() []string {
		// runc list fails while another container of the machine is
		// half created or deleted (its state is read without a lock):
		// a few tries before that counts.
		var out []byte
		var err error
		for try := 0; try < 5; try++ {
			if out, err = exec.Command("runc", "list", "-q").Output(); err == nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err != nil {
			t.Fatalf("runc list: %v", err)
		}
		var ours []string
		for _, id := range strings.Fields(string(out)) {
			if strings.HasPrefix(id, prefix) {
				ours = append(ours, id)
			}
		}
		return ours
	}
	// Wait (a bounded poll, not a timed assertion) for the container.
	for i := 0; len(containers()) == 0; i++ {
		if i == 600 {
			cmd.Process.Kill()
			t.Fatalf("no container %s* after a minute; stderr: %s", prefix, stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	code := cmd.ProcessState.ExitCode()
	if code != exitcode.Error || !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("after SIGINT: %v, exit %d, stderr %q; want %d and 'interrupted'", err, code, stderr.String(), exitcode.Error)
	}
	if left := containers(); len(left) > 0 {
		t.Errorf("containers left behind: %v", left)
	}
}

// TestReplayRuntimeNotInstalled: a runtime whose executable is not on
// PATH fails at once, in one line naming the package to install.
func TestReplayRuntimeNotInstalled(t *testing.T) {
	good := writeProfile(t, t.TempDir(), "good.json", "read")
	for _, tc := range []struct{ runtime, want string }{
		{"runc", "--runtime runc: runc not found (install it: apt-get install runc, or use --runtime none)"},
		{"podman", "--runtime podman: podman not found (install it: apt-get install podman)"},
		{"docker", "--runtime docker: docker not found (install it: apt-get install docker.io)"},
	} {
		dir := t.TempDir()
		cmd := exec.Command(buildProfgen(t), "replay", "--runtime", tc.runtime, "--profile", good, "--", "/bin/true")
		cmd.Dir, cmd.Env = dir, append(os.Environ(), "PATH="+t.TempDir())
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := -1
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		assertOneLineError(t, result{code: code, stdout: stdout.String(), stderr: stderr.String()}, dir, tc.want)
		if code != exitcode.Error {
			t.Errorf("--runtime %s without it: exit %d, want %d", tc.runtime, code, exitcode.Error)
		}
	}
}
