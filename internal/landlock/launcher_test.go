package landlock

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestFindLauncher: a missing or dynamically linked launcher beside the
// executable is an error that says how to build it; a static one is found.
func TestFindLauncher(t *testing.T) {
	dir := t.TempDir()
	self := filepath.Join(dir, "profgen")
	if _, err := FindLauncher(self); err == nil || !strings.Contains(err.Error(), "CGO_ENABLED=0 go build -o "+filepath.Join(dir, LauncherName)) {
		t.Errorf("missing launcher: %v", err)
	}
	dynamic, err := os.ReadFile("/bin/true")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, LauncherName), dynamic, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := FindLauncher(self); err == nil || !strings.Contains(err.Error(), "is not static") {
		t.Errorf("dynamic launcher: %v", err)
	}
}

// TestLauncherArgs: the launcher and its ruleset, as mounted, come before
// the command, which is not changed.
func TestLauncherArgs(t *testing.T) {
	cmd := []string{"/usr/sbin/nginx", "-g", "daemon off;"}
	got := LauncherArgs(cmd)
	want := []string{"/.profgen/profgen-landlock", "/.profgen/landlock.json", "--", "/usr/sbin/nginx", "-g", "daemon off;"}
	if !slices.Equal(got, want) || len(cmd) != 3 {
		t.Errorf("LauncherArgs = %q, want %q", got, want)
	}
}

// TestLauncherArgsFilter: the filter, as mounted, and its flags come
// before the ruleset, the command after.
func TestLauncherArgsFilter(t *testing.T) {
	got := LauncherArgsFilter([]string{"/bin/app", "-x"}, 6)
	want := []string{"/.profgen/profgen-landlock", "-seccomp", "/.profgen/seccomp.bpf", "-seccomp-flags", "6", "/.profgen/landlock.json", "--", "/bin/app", "-x"}
	if !slices.Equal(got, want) {
		t.Errorf("LauncherArgsFilter = %q, want %q", got, want)
	}
}
