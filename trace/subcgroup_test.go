package trace

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/profgen/profgen/trace/recording"
)

// subCgroupScript finds its own cgroup v2 directory (from /proc/self/cgroup
// and mountinfo, as any program would), makes CG/sub below it, moves a
// subshell there and runs two syscalls the shell itself never makes.
const subCgroupScript = `set -eu
rel=$(sed -n 's/^0:://p' /proc/self/cgroup)
mnt=$(awk '{for (i = 1; i <= NF; i++) if ($i == "-") { if ($(i+1) == "cgroup2") { print $5; exit } ; break }}' /proc/self/mountinfo)
cg="$mnt$rel"
[ -d "$cg" ] || { echo "no cgroup directory $cg" >&2; exit 3; }
mkdir "$cg/sub"
(
	echo 0 > "$cg/sub/cgroup.procs"
	[ "$(sed -n 's/^0:://p' /proc/self/cgroup)" = "$rel/sub" ] || { echo "not moved" >&2; exit 4; }
	exec python3 -c 'import os; os.sched_yield(); os.getpgid(0)'
)
rmdir "$cg/sub"
`

// TestRecordSubCgroup: a process of the target that moves into a child
// cgroup of the recording's cgroup is still recorded by the eBPF backend
// (issue 7 §2): sched_yield and getpgid are made only by python in CG/sub.
func TestRecordSubCgroup(t *testing.T) {
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skipf("python3 is not installed: %v", err)
	}
	script := filepath.Join(t.TempDir(), "sub.sh")
	if err := os.WriteFile(script, []byte(subCgroupScript), 0o755); err != nil {
		t.Fatal(err)
	}
	res := record(t, Options{Command: []string{"/bin/sh", script}})
	if res.ExitCode != 0 {
		t.Fatalf("script exited %d", res.ExitCode)
	}
	if res.Recording.Scope != recording.ScopeCgroup {
		t.Fatalf("scope %q, want a cgroup recording", res.Recording.Scope)
	}
	for _, name := range []string{"sched_yield", "getpgid"} {
		if count(t, res.Recording, name) == 0 {
			t.Errorf("%s made in CG/sub is not recorded; recorded %v", name, res.Recording.Names())
		}
	}
	if res.Recording.Lost != 0 {
		t.Errorf("lost %d", res.Recording.Lost)
	}
}
