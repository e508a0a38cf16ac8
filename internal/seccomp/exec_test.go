package seccomp

import (
	"errors"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// restrictedExecEnv, set in the environment of the test binary, makes it
// a launcher (see init): it applies the restrictions the value names, in
// order ("say-a", "say-b": print their name; "filter": an allow-all
// seccomp filter), and execs its arguments.
const restrictedExecEnv = "PROFGEN_TEST_RESTRICTED_EXEC"

// sayRestriction is a Restriction that prints its name when applied.
type sayRestriction string

func (s sayRestriction) Name() string { return string(s) }
func (s sayRestriction) Apply() error {
	_, err := os.Stdout.WriteString(string(s) + "\n")
	return err
}

// failRestriction is a Restriction that fails.
type failRestriction struct{}

func (failRestriction) Name() string { return "fail" }
func (failRestriction) Apply() error { return errors.New("no luck") }

func init() {
	names := os.Getenv(restrictedExecEnv)
	if names == "" {
		return
	}
	var rs []Restriction
	for _, n := range strings.Split(names, ",") {
		if n == "filter" {
			rs = append(rs, &Filter{Program: []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW}}})
		} else {
			rs = append(rs, sayRestriction(n))
		}
	}
	runtime.LockOSThread()
	_, err := ExecRestricted(rs, os.Args[1], os.Args[1:], os.Environ())
	os.Stderr.WriteString("restricted exec: " + err.Error() + "\n")
	os.Exit(2)
}

// TestExecRestricted: the restrictions are applied in their order before
// the exec, and the target runs under a seccomp filter that comes last (or
// under none when there is none).
func TestExecRestricted(t *testing.T) {
	// Without a filter the target has the test's own mode (a test run
	// under seccomp, in a container, is in mode 2 already).
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	var own []string
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "Seccomp:") || strings.HasPrefix(line, "NoNewPrivs:") {
			own = append(own, line)
		}
	}
	slices.Sort(own)
	slices.Reverse(own)
	for _, tc := range []struct {
		names, want string
	}{
		{"say-a,say-b,filter", "say-a\nsay-b\nexec\nSeccomp:\t2\nNoNewPrivs:\t1\n"},
		{"say-b,say-a", "say-b\nsay-a\nexec\n" + strings.Join(own, "\n") + "\n"},
	} {
		t.Run(tc.names, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "/bin/sh", "-c", "echo exec; grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status | sort -r")
			cmd.Env = append(os.Environ(), restrictedExecEnv+"="+tc.names)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%v: %s", err, err.(*exec.ExitError).Stderr)
			}
			if string(out) != tc.want {
				t.Errorf("output\n%s\nwant\n%s", out, tc.want)
			}
		})
	}
}

// TestExecRestrictedFails: a restriction that fails stops the launch
// before the next one and the exec, naming it.
func TestExecRestrictedFails(t *testing.T) {
	execFailed, err := ExecRestricted([]Restriction{failRestriction{}, &Filter{}}, "/nonexistent", []string{"x"}, nil)
	if execFailed || err == nil || err.Error() != "fail: no luck" {
		t.Errorf("execFailed %v, err %v; want false, fail: no luck", execFailed, err)
	}
	if _, err := Exec(nil, 0, "/bin/true", []string{"true"}, nil); err == nil {
		t.Error("Exec accepted an empty program")
	}
}
