// Package seccompprofile holds, in a build with the profgen_filter tag,
// the filter profgen emitted for servingserver (profgen emit --format go
// of a recording made with --ready, which offers Install and
// EnterServing). The file is not committed: a test generates it and adds
// it to this package with go build -overlay (workload.BuildGoWith).
package seccompprofile
