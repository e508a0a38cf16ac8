package cgroup

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/profgen/profgen/internal/proc"
)

// TestOf: this process's cgroup directory is its cgroup v2 path under the
// cgroup2 mount.
func TestOf(t *testing.T) {
	rel := proc.CgroupV2(os.Getpid())
	mnt, err := V2Mount()
	if err != nil {
		t.Fatal(err)
	}
	if abs, err := Of(os.Getpid()); rel == "" || err != nil || abs != filepath.Join(mnt, rel) {
		t.Errorf("own cgroup: %q, Of %q %v", rel, abs, err)
	}
}

// TestLevel: a cgroup's level below the cgroup2 mount, which is the
// hierarchy's root here; none for a path outside it.
func TestLevel(t *testing.T) {
	mnt, err := V2Mount()
	if err != nil {
		t.Fatal(err)
	}
	if level, ok := Level(mnt + "/profgen-x/y"); !ok || level != 2 {
		t.Errorf("Level(MOUNT/profgen-x/y) = %d, %v; want 2, true", level, ok)
	}
	if _, ok := Level("/tmp/x"); ok {
		t.Error("Level of a path outside the cgroup2 mount succeeded")
	}
}
