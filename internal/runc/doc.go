// Package runc runs a workload inside a real runc container: NewBundle
// writes an OCI bundle whose root filesystem borrows the host's /usr
// (bind-mounted read-only) and shares the host network, and Run starts it
// with `runc run`, always deleting the container afterwards.
//
// It is what live replay (package replay) and the end-to-end tests use to
// prove a learned profile under the runtime that will load it in
// production, runtime syscalls included.
package runc
