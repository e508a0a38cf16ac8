// Package replay proves a profile against a workload.
//
// Static replay runs every event of a recording through the profile's
// compiled classic-BPF filter in a VM (golang.org/x/net/bpf) and checks the
// verdict against the model's. Live replay reruns the workload under the
// enforced profile, directly or inside runc, and reports every syscall the
// kernel denied.
package replay
