package cgroup

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// TestParseMountinfo: cgroup v1 and v2 mounts in order, their mount
// points unescaped (\040 is a space), other file systems left out; this
// machine's own mountinfo has a cgroup2 hierarchy (hybrid or not).
func TestParseMountinfo(t *testing.T) {
	const text = `22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw
30 22 0:26 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755
31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw
32 30 0:28 / /sys/fs/cgroup/cpu\040set rw,nosuid shared:9 - cgroup cgroup rw,cpuset
`
	got, err := ParseMountinfo(strings.NewReader(text))
	want := []Mount{{"/sys/fs/cgroup/unified", "cgroup2"}, {"/sys/fs/cgroup/cpu set", "cgroup"}}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("ParseMountinfo = %v, %v; want %v", got, err, want)
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mine, err := ParseMountinfo(f)
	if err != nil || !slices.ContainsFunc(mine, func(m Mount) bool { return m.Type == "cgroup2" }) {
		t.Errorf("this machine's mountinfo: %v, %v: no cgroup2", mine, err)
	}
}
