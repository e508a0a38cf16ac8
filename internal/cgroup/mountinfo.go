package cgroup

import (
	"bufio"
	"io"
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
