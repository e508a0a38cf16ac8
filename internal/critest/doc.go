// Package critest gives tests a private containerd driven through CRI, as
// kubelet drives a node's: its own socket, root and state directory under a
// scratch directory, a config (version 2, snapshotter native) that
// registers a runtime handler whose runc-compatible binary the test names
// (profgen-runc), a pause image built here from a static Go program and
// imported with `ctr -n k8s.io images import`, and the workload image
// (enginetest.TestImage: an empty rootfs run with the host's /usr and /etc
// bound read-only). Nothing is pulled. Pods and containers are made with
// crictl (sigs.k8s.io/cri-tools, built at a pinned version by
// scripts/deps.sh into bin/); Stop removes them, stops containerd and its
// shims, and removes the mounts, cgroups and files it made.
package critest
