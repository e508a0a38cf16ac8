package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// execRuleset lets programs of /usr run and read /usr, the loader's
// cache and dir/ok, and bind TCP port 39873.
func execRuleset(t *testing.T, dir string) string {
	t.Helper()
	rs := `{"abi": 6,
 "ruleset": [{"handledAccessFs": ["abi.all"], "handledAccessNet": ["abi.all"], "scoped": ["abi.all"]}],
 "pathBeneath": [
  {"allowedAccess": ["abi.read_execute"], "parent": ["/usr", "/etc/ld.so.cache"]},
  {"allowedAccess": ["read_file", "read_dir"], "parent": ["` + dir + `/ok"]},
  {"allowedAccess": ["write_file"], "parent": ["/dev/null"]}],
 "netPort": [{"allowedAccess": ["bind_tcp"], "port": [39873]}]}`
	path := filepath.Join(dir, "ruleset.json")
	if err := os.WriteFile(path, []byte(rs), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestExecLandlock: profgen exec --landlock runs the command under the
// ruleset: what it allows works, reading /etc/shadow, writing into an
// allowed directory, executing a shell outside it and binding another
// port are refused by the kernel.
func TestExecLandlock(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "ok"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ok", "f"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sh, err := os.ReadFile("/usr/bin/dash")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ok", "sh"), sh, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := exec.Command(filepath.Join(dir, "ok", "sh"), "-c", "true").Run(); err != nil {
		t.Fatalf("the shell does not run without the ruleset: %v", err)
	}
	rs := execRuleset(t, dir)
	bind := func(port string) []string {
		return []string{"/usr/bin/python3", "-S", "-c", "import socket; s = socket.socket(); s.bind(('127.0.0.1', " + port + ")); print('bound')"}
	}
	for _, c := range []struct {
		name    string
		argv    []string
		code    int
		out, in string // in: what stdout or stderr must hold
	}{
		{"read allowed", []string{"cat", filepath.Join(dir, "ok", "f")}, 0, "hello\n", ""},
		{"read /etc/shadow", []string{"cat", "/etc/shadow"}, 1, "", "Permission denied"},
		{"write into the allowed directory", []string{"/usr/bin/touch", filepath.Join(dir, "ok", "new")}, 1, "", "Permission denied"},
		// A shell readable but not executable (/bin/sh is /usr/bin/dash,
		// beneath /usr, here).
		{"execute a shell", []string{"/usr/bin/env", filepath.Join(dir, "ok", "sh"), "-c", "true"}, 126, "", "Permission denied"},
		{"bind the allowed port", bind("39873"), 0, "bound\n", ""},
		{"bind another port", bind("39874"), 1, "", "PermissionError"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := runProfgen(t, dir, append([]string{"exec", "--landlock", rs, "--"}, c.argv...)...)
			if res.code != c.code || (c.out != "" && res.stdout != c.out) || !strings.Contains(res.stderr, c.in) {
				t.Errorf("exit %d (want %d)\nstdout %q (want %q)\nstderr %q (want %q)", res.code, c.code, res.stdout, c.out, res.stderr, c.in)
			}
			if strings.Contains(res.stderr, "not enforced") {
				t.Errorf("this kernel (Landlock ABI 7) enforces everything: %s", res.stderr)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "ok", "new")); err == nil {
		t.Error("touch created the file")
	}
}

// TestExecBoth: the seccomp profile applies with the ruleset: a syscall
// the profile refuses fails with its errno while the ruleset allows the
// path.
func TestExecBoth(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "ok"), 0o755)
	rs := execRuleset(t, dir)
	prof := filepath.Join(dir, "seccomp.json")
	if err := os.WriteFile(prof, []byte(`{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
 "syscalls": [{"names": ["uname"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	res := runProfgen(t, dir, "exec", "--seccomp", prof, "--landlock", rs, "--", "uname")
	if res.code == 0 || !strings.Contains(res.stderr, "Operation not permitted") {
		t.Errorf("uname under the profile: exit %d, %q", res.code, res.stderr)
	}
	res = runProfgen(t, dir, "exec", "--seccomp", prof, "--landlock", rs, "--", "ls", filepath.Join(dir, "ok"))
	if res.code != 0 {
		t.Errorf("ls of an allowed directory: exit %d, %q", res.code, res.stderr)
	}
	res = runProfgen(t, dir, "exec", "--seccomp", prof, "--landlock", rs, "--", "ls", "/etc")
	if res.code == 0 || !strings.Contains(res.stderr, "Permission denied") {
		t.Errorf("ls /etc: exit %d, %q", res.code, res.stderr)
	}
}

// TestExecBadInput: one line naming what and where, exit 125, nothing run.
func TestExecBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"pathBeneath": [{"allowedAccess": ["read_everything"], "parent": ["/"]}]}`), 0o644)
	marker := filepath.Join(dir, "ran")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--landlock", filepath.Join(dir, "missing.json")}, "missing.json"},
		{[]string{"--landlock", bad}, bad + `: landlock configuration: pathBeneath[0]: unknown Landlock right "read_everything"`},
		{[]string{"--seccomp", bad}, bad},
		{nil, "give --seccomp PROFILE, --landlock RULESET or both"},
	} {
		res := runProfgen(t, dir, append(append([]string{"exec"}, c.args...), "--", "touch", marker)...)
		if res.code != 125 || strings.Count(strings.TrimSpace(res.stderr), "\n") != 0 || !strings.Contains(res.stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q (want one line with %q)", c.args, res.code, res.stderr, c.want)
		}
		if _, err := os.Stat(marker); err == nil {
			t.Fatalf("%v: the command ran", c.args)
		}
	}
}
