package container

import (
	"errors"
	"strings"

	"github.com/profgen/profgen/internal/engine"
	"github.com/profgen/profgen/internal/proc"
)

// ErrGone means the process exited (and was reaped) before its cgroups
// could be read.
var ErrGone = errors.New("process gone")

// Cgroups returns the cgroup v2 path of process pid and the paths of all
// its hierarchies (v1 and v2), as /proc/PID/cgroup lists them. It fails
// with ErrGone when the process no longer exists.
func Cgroups(pid int) (v2 string, all []string, err error) {
	v2, _, all, err = proc.ReadCgroups(pid)
	if err != nil {
		return "", nil, ErrGone
	}
	return v2, all, nil
}

// prefixes are how engines name a container's cgroup with the systemd
// cgroup driver: PREFIX ID .scope (the engine table's CgroupPrefixes).
var prefixes = engine.CgroupPrefixes()

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
	var c Cache
	return c.In(pid, id)
}

// cacheMax bounds a Cache: when it holds more processes, it starts over.
const cacheMax = 1 << 16

// Cache reads processes' cgroups and remembers the last ones read for
// each process, so that a process that has exited (and was reaped) by the
// time a later record of it arrives is still placed where it was: the
// audit records of a process that dies just after a denial often arrive
// after it is gone. A process gone before any of its records could be
// read stays unknown (ErrGone). Not safe for concurrent use.
type Cache struct {
	last map[int]cgroups
}

type cgroups struct {
	v2  string
	all []string
}

// Cgroups is the package's Cgroups, falling back on the last cgroups read
// for pid when the process is gone.
func (c *Cache) Cgroups(pid int) (v2 string, all []string, err error) {
	v2, all, err = Cgroups(pid)
	if err != nil {
		if l, ok := c.last[pid]; ok {
			return l.v2, l.all, nil
		}
		return "", nil, err
	}
	if c.last == nil || len(c.last) >= cacheMax {
		c.last = map[int]cgroups{}
	}
	c.last[pid] = cgroups{v2, all}
	return v2, all, nil
}

// In is the package's In through the cache.
func (c *Cache) In(pid int, id string) (bool, error) {
	_, all, err := c.Cgroups(pid)
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
