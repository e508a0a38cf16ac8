// Package artifact ships seccomp profiles through OCI registries in the
// format the consumers of such artifacts read: Kubernetes' KEP-6061
// (seccomp profiles as OCI artifacts), as the Security Profiles Operator's
// spoc push/pull writes and reads it and CRI-O pulls it. An artifact is an
// OCI image manifest (version 1.1) whose artifactType and config media type
// are MediaType, whose config is the empty JSON object, and whose one layer
// is the OCI runtime-spec seccomp profile itself (media type
// LayerMediaType, titled LayerTitle).
//
// Push and Pull move the profile's bytes unchanged, through oras-go
// (oras.land/oras-go/v2); Check is what both require of those bytes.
package artifact
