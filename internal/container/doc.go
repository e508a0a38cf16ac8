// Package container tells which container a process belongs to, from the
// cgroups /proc/PID/cgroup lists and the way container engines name a
// container's cgroup (docker-ID.scope, libpod-ID.scope, /docker/ID, ...).
// monitor's --container filter and replay's docker mode share it.
package container
