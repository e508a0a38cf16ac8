package trace

import (
	"os/exec"
)

// Key is what a backend aggregates on: a syscall number and the captured
// argument values (each already masked by the argument table; zero where
// an argument is not captured).
type Key struct {
	Nr   uint32
	Args [6]uint64
}

// Observations is what a backend saw, before names are resolved.
type Observations struct {
	Counts map[Key]uint64
	// Lost counts events the backend knows it dropped.
	Lost uint64
	// Scope is one of the recording.Scope* constants.
	Scope string
	// ArgShapes tells whether Key.Args hold captured values.
	ArgShapes bool
	Notes     []string
}

// Target is the process a recording starts, as handed to a backend before
// it starts.
type Target struct {
	// Cmd is the target's command; a backend may adjust it before it
	// starts (the log backend wraps it in its launcher).
	Cmd *exec.Cmd
	// Cgroup is the fresh cgroup the target starts in, or nil when cgroup
	// v2 cannot be used.
	Cgroup *Cgroup
}

// Backend is the kernel side of a recording. Its lifecycle is: the
// constructor loads what it needs (and closes it again if it fails);
// Prepare runs before the target starts; Start right after; Collect stops
// observing and returns what was seen; Close releases everything and may be
// called at any point, more than once.
type Backend interface {
	// Name is recording.BackendEBPF or recording.BackendLog.
	Name() string
	Prepare(t *Target) error
	Start(pid int) error
	// Events returns the number of events seen so far, for a live status
	// line. It must be cheap.
	Events() uint64
	Collect() (*Observations, error)
	Close() error
}
