package container

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/profgen/profgen/internal/cgroup"
)

// Mounts returns the mount points of the cgroup hierarchies, v1 and v2,
// from /proc/self/mountinfo (cgroup.ParseMountinfo).
func Mounts() ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ms, err := cgroup.ParseMountinfo(f)
	if err != nil {
		return nil, fmt.Errorf("read /proc/self/mountinfo: %w", err)
	}
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Point
	}
	return out, nil
}

// Dirs returns the cgroup directories under mounts that are named after
// container id (Named), and their sub-cgroups.
func Dirs(mounts []string, id string) []string {
	var out []string
	for _, m := range mounts {
		filepath.WalkDir(m, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return nil
			}
			if Named(strings.TrimPrefix(p, m), id) {
				out = append(out, p)
			}
			return nil
		})
	}
	return out
}

// Procs returns the processes listed in the cgroup.procs of dirs; a
// directory that is gone is skipped.
func Procs(dirs []string) []int {
	var out []int
	for _, d := range dirs {
		out = append(out, cgroup.ReadProcs(filepath.Join(d, "cgroup.procs"))...)
	}
	return out
}
