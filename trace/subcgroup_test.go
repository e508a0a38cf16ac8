package trace

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/profgen/profgen/recording"
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
# Deeper than the program walks up by loads (MAX_UP): the helper decides.
deep="$cg"
for i in 1 2 3 4 5 6 7 8 9 10; do deep="$deep/d$i"; mkdir "$deep"; done
(
	echo 0 > "$deep/cgroup.procs"
	exec python3 -c 'import os; os.getsid(0)'
)
for i in 10 9 8 7 6 5 4 3 2 1; do rmdir "$deep"; deep=$(dirname "$deep"); done
`

// TestRecordSubCgroup: a process of the target that moves into a child
// cgroup of the recording's cgroup is still recorded by the eBPF backend
// (issue 7 §2): sched_yield and getpgid are made only by python in CG/sub,
// getsid only by python ten levels below CG. Both ways the program decides
// are run: by its load-time level and id, and by asking the kernel per
// call (what it does when the level cannot be known).
func TestRecordSubCgroup(t *testing.T) {
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skipf("python3 is not installed: %v", err)
	}
	script := filepath.Join(t.TempDir(), "sub.sh")
	if err := os.WriteFile(script, []byte(subCgroupScript), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, noLevel := range []bool{false, true} {
		be := newTestEBPF(t, EBPFOptions{})
		be.noLevel = noLevel
		res := record(t, Options{Command: []string{"/bin/sh", script}, Backend: be})
		if res.ExitCode != 0 {
			t.Fatalf("noLevel=%v: script exited %d", noLevel, res.ExitCode)
		}
		if res.Recording.Scope != recording.ScopeCgroup {
			t.Fatalf("noLevel=%v: scope %q, want a cgroup recording", noLevel, res.Recording.Scope)
		}
		if !noLevel && be.level != 1 {
			t.Errorf("the program did not get the recording cgroup's level: %d, want 1", be.level)
		}
		// With the level known the recording goes through the shared
		// dispatcher, whose helper decides below MAX_UP (dsp_cgroups).
		if !noLevel && be.shareErr != nil {
			t.Errorf("the recording did not share the dispatcher: %v", be.shareErr)
		}
		for _, name := range []string{"sched_yield", "getpgid", "getsid"} {
			if count(t, res.Recording, name) == 0 {
				t.Errorf("noLevel=%v: %s made below the recording cgroup is not recorded; recorded %v", noLevel, name, res.Recording.Names())
			}
		}
		if res.Recording.Lost != 0 {
			t.Errorf("noLevel=%v: lost %d", noLevel, res.Recording.Lost)
		}
	}
}
