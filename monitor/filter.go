package monitor

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/profgen/profgen/internal/audit"
	"github.com/profgen/profgen/internal/container"
)

// Filter selects records; an empty field selects everything. A record is
// kept when it matches every field set.
type Filter struct {
	// Pid is the caller's process (thread group) id.
	Pid int
	// Comm is the calling thread's name, exactly.
	Comm string
	// Exe is the caller's executable, exactly.
	Exe string
	// Cgroup is a cgroup v2 path as /proc/PID/cgroup shows it
	// ("/system.slice/nginx.service"): the caller must be in it or below.
	Cgroup string
	// Container is a container id, or a prefix of one: the caller must
	// be in a cgroup the engine named after it (docker-ID.scope,
	// libpod-ID.scope, crio-ID.scope, cri-containerd-ID.scope, or a
	// directory ID under docker/ or kubepods), in any hierarchy.
	Container string
}

// needsCgroup reports whether matching reads the caller's cgroups.
func (f *Filter) needsCgroup() bool { return f.Cgroup != "" || f.Container != "" }

// Validate checks f once.
func (f *Filter) Validate() error {
	if f.Pid < 0 {
		return fmt.Errorf("--pid %d: not a process id", f.Pid)
	}
	if f.Cgroup != "" {
		if !strings.HasPrefix(f.Cgroup, "/") {
			return fmt.Errorf("--cgroup %q: give the path as /proc/PID/cgroup shows it, starting with /", f.Cgroup)
		}
		f.Cgroup = path.Clean(f.Cgroup)
	}
	if f.Container != "" && strings.ContainsAny(f.Container, "/ ") {
		return fmt.Errorf("--container %q: a container id has no slash or space", f.Container)
	}
	return nil
}

// attributor is f as an audit.Attributor: the record's own fields, then
// the caller's cgroups (no sessions).
func (f *Filter) attributor(cache *container.Cache) *audit.Attributor {
	a := &audit.Attributor{Filter: func(rec audit.Record) bool {
		return (f.Pid == 0 || rec.Pid == f.Pid) &&
			(f.Comm == "" || rec.Comm == f.Comm) &&
			(f.Exe == "" || rec.Exe == f.Exe)
	}}
	if !f.needsCgroup() {
		return a
	}
	a.Member = func(pid int) (string, bool, error) {
		v2, all, err := cache.Cgroups(pid)
		if err != nil {
			return "", false, err
		}
		if f.Cgroup != "" && !(v2 == f.Cgroup || f.Cgroup == "/" || strings.HasPrefix(v2, f.Cgroup+"/")) {
			return "", false, nil
		}
		if f.Container != "" && !slices.ContainsFunc(all, func(p string) bool { return container.Named(p, f.Container) }) {
			return "", false, nil
		}
		return "", true, nil
	}
	return a
}
