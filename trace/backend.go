package trace

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"time"

	"github.com/profgen/profgen/internal/cgroup"
	"github.com/profgen/profgen/recording"
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
	// Scope says how the backend selected the target's syscalls.
	Scope recording.Scope
	// ArgShapes tells whether Key.Args hold captured values.
	ArgShapes bool
	Notes     []string
	// Sections is what the backend observed for policy kinds other than
	// seccomp (Observer), by kind; the recording's Sections.
	Sections map[string]json.RawMessage
	// Evidence is, per key of Counts, who made the calls and when; nil
	// from a backend that does not tell.
	Evidence map[Key]*Evidence
}

// Evidence is what a backend knows of the calls of one Key: the
// executables that made them, when the first was seen and how many were
// made in each phase (recording.Evidence, before the times are made
// relative to the recording's start).
type Evidence struct {
	// Exes are the executables' absolute paths, as the processes saw them.
	Exes map[string]bool
	// UnnamedExes counts the executables whose path the backend could not
	// tell (at least that many).
	UnnamedExes int
	// First is when the first call was seen; zero when unknown.
	First time.Time
	// Phases counts the calls per phase (recording.PhaseNames); nil when
	// the backend does not tell.
	Phases map[string]uint64
}

// evidence returns the evidence of k, made empty on first use.
func (o *Observations) evidence(k Key) *Evidence {
	if o.Evidence == nil {
		o.Evidence = map[Key]*Evidence{}
	}
	ev := o.Evidence[k]
	if ev == nil {
		ev = &Evidence{Exes: map[string]bool{}}
		o.Evidence[k] = ev
	}
	return ev
}

// count adds n calls in phase.
func (ev *Evidence) count(phase string, n uint64) {
	if n == 0 {
		return
	}
	if ev.Phases == nil {
		ev.Phases = map[string]uint64{}
	}
	ev.Phases[phase] += n
}

// seenAt records a sighting at t (the zero time says nothing).
func (ev *Evidence) seenAt(t time.Time) {
	if !t.IsZero() && (ev.First.IsZero() || t.Before(ev.First)) {
		ev.First = t
	}
}

// add folds o into ev.
func (ev *Evidence) add(o *Evidence) {
	for x := range o.Exes {
		ev.Exes[x] = true
	}
	ev.UnnamedExes += o.UnnamedExes
	ev.seenAt(o.First)
	for ph, n := range o.Phases {
		ev.count(ph, n)
	}
}

// PhaseMarker is implemented by backends that count calls per phase
// (recording.PhaseStartup, recording.PhaseServing). Record and Attach call
// MarkReady once, when the target is ready (Options.Ready): the calls
// before were its start-up, those after its serving. Without the call a
// backend counts one phase, recording.PhaseRun.
type PhaseMarker interface {
	MarkReady(at time.Time) error
}

// StopMarker is implemented by backends whose clock is too coarse to tell
// the calls a target made once profgen began to stop it (the --drive
// command ended, Options.Duration, a signal) from those made just before:
// Record calls MarkStopping once, at that moment (the recording's
// stoppedAtMs), and the backend sees to it that no call made after it is
// first seen before it.
type StopMarker interface {
	MarkStopping(at time.Time) error
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

// Cgroup is a cgroup v2 directory made for one recording, or opened for
// Attach (internal/cgroup: its life cycle, reaper, stale cgroups and
// escaped processes).
type Cgroup = cgroup.Cgroup

// Backend is the kernel side of a recording. Its lifecycle is: the
// constructor loads what it needs (and closes it again if it fails);
// Prepare runs before the target starts; Start right after; Collect stops
// observing and returns what was seen; Close releases everything and may be
// called at any point, more than once.
//
// The caller that creates a backend closes it: Record uses the backend it
// is given and never closes it, so one deferred Close right after the
// constructor is the whole of a caller's duty.
//
// Beyond these methods Record uses four optional capabilities, found by
// type assertion; a backend implements each one it has:
//
//   - ArgCapturer: the backend captures argument values (Key.Args);
//   - DistinctCounter: it counts distinct syscalls cheaply, for the status
//     line (Status.Distinct is -1 without it);
//   - TreeFollower: it follows the target's process tree itself, which
//     Record then asks for the tree's pids when no cgroup is used.
//   - Observer: it observes more than syscall numbers and argument
//     registers (what a policy kind other than seccomp learns from), and
//     gives it as the recording's sections.
//
// Attach needs one more, ExecArmer: the backend can record a cgroup whose
// processes profgen did not start.
//
// These are the whole of the contract: a backend in another package that
// implements them is used exactly as the built-in ones are.
type Backend interface {
	// Name is the backend's name, as its recordings carry it
	// (recording.BackendEBPF, recording.BackendLog).
	Name() recording.BackendName
	Prepare(t *Target) error
	Start(pid int) error
	// Events returns the number of events seen so far, for a live status
	// line. It must be cheap.
	Events() uint64
	Collect() (*Observations, error)
	Close() error
}

// ArgMasks is the compiled form of an argument table (Options.ArgTable):
// per syscall number of the native ABI, the mask of each of its six
// arguments. A zero mask means the argument is not captured.
type ArgMasks map[int][6]uint64

// ArgCapturer is implemented by backends that capture syscall arguments.
// Record calls CaptureArgs once, before Prepare, with the masks to apply:
// the backend then reports in Key.Args each argument ANDed with its mask
// (zero for the others) and sets Observations.ArgShapes.
type ArgCapturer interface {
	CaptureArgs(masks ArgMasks) error
}

// DistinctCounter is implemented by backends that can count the distinct
// syscalls seen so far cheaply while recording. Distinct must be cheap and
// safe to call concurrently with the recording.
type DistinctCounter interface {
	Distinct() int
}

// ExecArmer is implemented by backends that can record an existing cgroup
// whose processes profgen did not start (Attach). ArmOnExec, called
// before Prepare, makes the backend count a process of the cgroup only
// from its own completed execve on, and what it forks (a container's
// cgroup, where the runtime's calls come first).
type ExecArmer interface {
	ArmOnExec()
}

// MoveWatcher is implemented by backends that can learn from the kernel
// when a process may have left the recording's cgroup, so that the
// session's escape tracker looks at once instead of polling often.
// WatchMoves is called after Prepare and before the target starts; the
// channel then receives (coalesced, never closed) whenever a task of the
// machine moved to another cgroup or was forked into a cgroup other than
// its parent's. An error leaves the tracker polling.
type MoveWatcher interface {
	WatchMoves() (<-chan struct{}, error)
}

// TreeFollower is implemented by backends that follow the target's
// process tree themselves (the eBPF backend when no cgroup is used).
// Record uses it only when Target.Cgroup is nil: TreePids returns the
// processes of the tree still alive, Untrack drops a process Record has
// reaped (its pid may be reused).
type TreeFollower interface {
	TreePids() ([]int, error)
	Untrack(pid int)
}

// Observer is implemented by backends that observe, beside syscall numbers
// and argument registers, what another kind of policy is learned from (for
// Landlock: the file hierarchies and TCP ports the target used). Record
// and Attach call Sections once, right after Collect, and the recording
// carries what it returns as its Sections: one entry per kind, each a row
// of recording.SectionKinds, whose JSON that row validates (a section of
// an unknown kind fails the recording). No built-in backend implements it
// yet.
type Observer interface {
	Sections() (map[string]json.RawMessage, error)
}

// collect stops b observing and returns what it saw, with the sections of
// an Observer.
func collect(b Backend) (*Observations, error) {
	obs, err := b.Collect()
	if err != nil {
		return nil, fmt.Errorf("collect from %s backend: %w", b.Name(), err)
	}
	if o, ok := b.(Observer); ok {
		sections, err := o.Sections()
		if err != nil {
			return nil, fmt.Errorf("collect sections from %s backend: %w", b.Name(), err)
		}
		obs.Sections = sections
	}
	return obs, nil
}
