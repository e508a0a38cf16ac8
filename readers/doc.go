// Package readers reads the documents profgen takes in that other tools
// write: OCI runtime-spec seccomp profiles and Docker's profile format
// (ParseOCI, ReadOCIFile), into the model (learn.Profile), with the meaning
// runc gives them. Its own files have their readers in their packages
// (recording.ReadFile); the CLI gathers every input it reads in
// cmd/profgen/inputs.go.
//
// emit writes the OCI document and takes from here what the writer and the
// reader share (OCIOperators, IncompleteField); explain, diff, replay and
// profgen-runc read profiles through this package. It imports neither the
// compiler nor trace.
package readers
