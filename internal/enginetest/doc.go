// Package enginetest gives tests private container engines: a podman
// store of its own (--root, --runroot, --tmpdir) and a dockerd of its own
// (socket, data root, exec root; no iptables, no bridge), each with
// TestImage imported from an empty rootfs whose bin, lib, lib64 and sbin
// link into usr/, run with the host's /usr and /etc bound read-only.
// Nothing is pulled. The tests of cmd/profgen-runc, replay and monitor
// share it.
package enginetest
