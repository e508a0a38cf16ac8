// Package emit writes a learn.Profile in the formats other tools load. One
// table, Formats, names each format with its help and its writer (one
// signature: func(io.Writer, *learn.Profile, Options) error); `profgen
// emit --format` takes its help and validation from it. The formats: OCI
// runtime-spec JSON (Docker, podman, Kubernetes, runc, crun), a Security
// Profiles Operator SeccompProfile, a systemd unit drop-in, the compiled
// filter as raw sock_filter instructions (bwrap --seccomp), a table for
// people, C source for libseccomp, and Go source: cgo-free with the
// compiled filter embedded, or built with libseccomp-golang.
//
// The C and Go sources are embedded text/templates (templates/) over one
// language-neutral view of the profile; a dialect per language spells its
// actions, comparisons and comments. Nothing taken from a recording
// reaches an output except inside a comment, made one line and stripped of
// comment terminators, and as the k8s format's default name, reduced to
// [a-z0-9-].
//
// emit compiles no filter itself: the formats that embed the compiled
// program take the compiler through Options.Compile, so that emit imports
// neither the compiler's package nor trace. Reading OCI profiles back
// into the model is package readers' job (readers.ParseOCI), which the OCI
// writer shares its operator table and marker field with.
package emit
