package replay

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	ll "github.com/profgen/profgen/internal/landlock"
	"github.com/profgen/profgen/landlock"
)

// buildLauncher builds the static Landlock launcher into a temporary
// directory and returns its path.
func buildLauncher(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), ll.LauncherName)
	cmd := exec.Command("go", "build", "-o", path, "../cmd/profgen-landlock")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", ll.LauncherName, err, out)
	}
	return path
}

// TestLiveLandlockRunc: live replay in runc applies the ruleset to the
// container's process through the static launcher and names each access
// it denied there; a Landlock denial of a process outside the container
// at the same time (the driver's, on the host) is not the workload's and
// is not named. Without a launcher, or on a kernel without Landlock, it
// is an error, never a pass.
func TestLiveLandlockRunc(t *testing.T) {
	launcher := buildLauncher(t)
	dir, ok := okDir(t)
	r, err := landlock.ParseConfig([]byte(`{"abi": 6,
 "ruleset": [{"handledAccessFs": ["abi.all"], "handledAccessNet": ["abi.all"]}],
 "pathBeneath": [
  {"allowedAccess": ["abi.read_execute"], "parent": ["/usr", "/etc/ld.so.cache", "/etc/locale.alias"]},
  {"allowedAccess": ["read_file", "read_dir"], "parent": ["` + ok + `"]},
  {"allowedAccess": ["write_file"], "parent": ["/dev/null"]}],
 "netPort": [{"allowedAccess": ["bind_tcp"], "port": [39876]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	// The host's denial: the launcher itself, on the host, under a
	// ruleset that lets cat run but not read the hostname file.
	hostRules := filepath.Join(dir, "host.json")
	if err := os.WriteFile(hostRules, []byte(`{"HandledFS": 4, "Paths": [{"Path": "/usr", "Access": 4}, {"Path": "/etc/ld.so.cache", "Access": 4}], "Log": true}`), 0o644); err != nil {
		t.Fatal(err)
	}
	py := func(code string) string {
		return "/usr/bin/python3 -S -c \"import socket; " + code + "\" 2>/dev/null"
	}
	script := strings.Join([]string{
		"cat " + filepath.Join(ok, "f") + " >/dev/null",
		"cat /etc/shadow 2>/dev/null",
		"touch " + filepath.Join(ok, "new") + " 2>/dev/null",
		py("socket.socket().bind(('127.0.0.1', 39876))"),
		py("socket.socket().bind(('127.0.0.1', 39877))"),
		"true",
	}, "; ")
	var out strings.Builder
	opts := LiveOptions{
		Command: []string{"/bin/sh", "-c", script}, Runtime: RuntimeRunc,
		Binds: []Bind{{Source: "/etc", Destination: "/etc"}, {Source: ok, Destination: ok, Writable: true}},
		// The driver, on the host, is refused /etc/hostname under a
		// ruleset of its own while the container runs.
		Drive:    launcher + " " + hostRules + " -- /usr/bin/cat /etc/hostname 2>&1 | grep -q 'Permission denied' && echo host-denied",
		Landlock: r, LandlockLauncher: launcher, Stdout: &out, Stderr: &out,
	}
	rep, err := Live(context.Background(), opts)
	if err != nil {
		t.Fatalf("Live: %v (output %q)", err, out.String())
	}
	if !strings.Contains(out.String(), "host-denied") {
		t.Errorf("the host's process was not refused /etc/hostname: %q", out.String())
	}
	var text strings.Builder
	rep.WriteText(&text)
	got := deniedBy(t, rep)
	for k, comm := range map[string]string{"read_file /etc/shadow": "cat", "make_reg " + ok: "touch", "bind_tcp 39877": "python3"} {
		if got[k] != comm {
			t.Errorf("denial %q by %q not named (got %q)", k, comm, got[k])
		}
	}
	for k := range got {
		if strings.HasSuffix(k, "/ok/f") || strings.HasSuffix(k, " 39876") || strings.Contains(k, "/etc/hostname") {
			t.Errorf("an allowed access, or the host's, was named: %s", k)
		}
	}
	if rep.OK() || rep.Verdict() != Fail || len(rep.Violations) != 0 {
		t.Errorf("verdict %s, seccomp violations %v", rep.Verdict(), rep.Violations)
	}
	t.Logf("report:\n%s", text.String())

	// What the ruleset allows passes.
	opts.Command, opts.Drive = []string{"/bin/sh", "-c", "cat " + filepath.Join(ok, "f")}, ""
	if rep, err = Live(context.Background(), opts); err != nil || !rep.OK() || rep.Verdict() != Pass {
		t.Errorf("allowed: %v, %+v", err, rep)
	}

	opts.LandlockLauncher = ""
	if _, err := Live(context.Background(), opts); err == nil || !strings.Contains(err.Error(), "needs the static launcher") {
		t.Errorf("no launcher: %v", err)
	}
}
