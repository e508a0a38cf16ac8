// Package proc reads what /proc says about a process: its stat line
// (command, state, parent, start time), its cgroups, its children and its
// pid namespace. It is the one parser of these files for trace,
// internal/cgroup, internal/container and monitor.
package proc
