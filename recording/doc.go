// Package recording defines profgen's recording file: what a backend observed
// while a target ran, aggregated per syscall and argument shape.
//
// A Recording is plain data. It is written by the trace backends, merged by
// Merge, and read by learn to build a profile. Its format is documented in
// docs/recording-format.md; Version is bumped on every incompatible change.
package recording
