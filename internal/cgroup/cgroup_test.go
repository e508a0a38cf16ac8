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
