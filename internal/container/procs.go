package container

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Mount is a cgroup hierarchy's mount point and its file system type:
// cgroup (v1) or cgroup2.
type Mount struct {
	Point, Type string
}

// ParseMountinfo returns the cgroup hierarchies, v1 and v2, that r (the
// text of /proc/self/mountinfo) lists, in its order; a hybrid host has
// both.
func ParseMountinfo(r io.Reader) ([]Mount, error) {
	var out []Mount
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		// 41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
		fields := strings.Fields(sc.Text())
		for i, fl := range fields {
			if fl == "-" && i+1 < len(fields) && (fields[i+1] == "cgroup" || fields[i+1] == "cgroup2") && len(fields) > 4 {
				out = append(out, Mount{Point: unescape(fields[4]), Type: fields[i+1]})
				break
			}
		}
	}
	return out, sc.Err()
}

// Mounts returns the mount points of the cgroup hierarchies, v1 and v2,
// from /proc/self/mountinfo (ParseMountinfo).
func Mounts() ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ms, err := ParseMountinfo(f)
	if err != nil {
		return nil, fmt.Errorf("read /proc/self/mountinfo: %w", err)
	}
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Point
	}
	return out, nil
}

// unescape undoes mountinfo's octal escapes (\040 for a space).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
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
		b, err := os.ReadFile(filepath.Join(d, "cgroup.procs"))
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				out = append(out, pid)
			}
		}
	}
	return out
}
