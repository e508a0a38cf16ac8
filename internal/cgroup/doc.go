// Package cgroup is the cgroup v2 life cycle of a recording: where the
// hierarchy is mounted (/proc/self/mountinfo), a fresh cgroup named after
// the profgen process that made it (New), an existing one opened for
// attaching (Open), its processes (cgroup.procs) and whether it emptied
// (cgroup.events, inotify), killing and removing it with its sub-cgroups,
// the reaper that does so should profgen be killed (reaper.go), the
// removal of stale cgroups of profgen processes that are gone (stale.go)
// and the tracker of processes that leave it (escape.go). trace and
// internal/container use it; it imports no project package outside
// internal/.
package cgroup
