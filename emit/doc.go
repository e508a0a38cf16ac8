// Package emit writes a learn.Profile in the formats other tools load: OCI
// runtime-spec JSON (Docker, podman, Kubernetes, runc, crun), a compiled
// classic-BPF filter, a human-readable summary, and C and Go sources that
// build and load the filter with libseccomp. It also reads OCI
// profiles back into the model, so that existing profiles can be diffed,
// extended and replayed.
package emit
