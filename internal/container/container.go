package container

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ErrGone means the process exited (and was reaped) before its cgroups
// could be read.
var ErrGone = errors.New("process gone")

// Cgroups returns the cgroup v2 path of process pid and the paths of all
// its hierarchies (v1 and v2), as /proc/PID/cgroup lists them. It fails
// with ErrGone when the process no longer exists.
func Cgroups(pid int) (v2 string, all []string, err error) {
	fh, err := os.Open(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return "", nil, ErrGone
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		// hierarchy-ID:controllers:path
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[0] == "0" && parts[1] == "" {
			v2 = parts[2]
		}
		all = append(all, parts[2])
	}
	if err := sc.Err(); err != nil {
		return "", nil, ErrGone
	}
	return v2, all, nil
}

// prefixes are how engines name a container's cgroup with the systemd
// cgroup driver: PREFIX ID .scope.
var prefixes = []string{"docker-", "libpod-", "crio-", "cri-containerd-", "containerd-"}

// Named reports whether the cgroup path p names a container whose id
// starts with id: a component PREFIX-ID.scope (systemd driver) or a
// component that is a 64-character id (cgroupfs driver: /docker/ID,
// /kubepods/.../ID, /libpod_parent/libpod-ID).
func Named(p, id string) bool {
	if id == "" {
		return false
	}
	for _, c := range strings.Split(p, "/") {
		c = strings.TrimSuffix(c, ".scope")
		for _, pre := range prefixes {
			if rest, ok := strings.CutPrefix(c, pre); ok && strings.HasPrefix(rest, id) {
				return true
			}
		}
		if len(c) == 64 && strings.HasPrefix(c, id) {
			return true
		}
	}
	return false
}

// In reports whether process pid is in a cgroup, of any hierarchy, named
// after the container id (or a prefix of it); ErrGone when the process
// no longer exists.
func In(pid int, id string) (bool, error) {
	_, all, err := Cgroups(pid)
	if err != nil {
		return false, err
	}
	for _, p := range all {
		if Named(p, id) {
			return true, nil
		}
	}
	return false, nil
}
