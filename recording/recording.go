package recording

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Version is the recording format version this build writes and the highest
// it reads. Version 2 added Sections, version 3 the evidence of every call
// (Evidence), ReadyAtMs and StoppedAtMs; versions 1 and 2 are still read.
const Version = 3

// BackendName names the backend that recorded (Recording.Backend).
type BackendName string

// Backends.
const (
	BackendEBPF BackendName = "ebpf"
	BackendLog  BackendName = "log"
	// BackendMixed is a merge of recordings of different backends.
	BackendMixed BackendName = "mixed"
)

// Mixed is the Kernel or Base of a merge of recordings whose kernels or
// bases differ.
const Mixed = "mixed"

// Scope says how the backend selected the target's syscalls
// (Recording.Scope).
type Scope string

// Scopes.
const (
	// ScopeCgroup: every task of a fresh cgroup v2 made for the recording.
	ScopeCgroup Scope = "cgroup"
	// ScopeProcessTree: the target and its descendants, followed through
	// fork and exit tracepoints.
	ScopeProcessTree Scope = "process-tree"
	// ScopeSeccomp: every task that inherited the recording's seccomp filter.
	ScopeSeccomp Scope = "seccomp-filter"
	// ScopeMixed is a merge of recordings of different scopes.
	ScopeMixed Scope = "mixed"
)

// ArgKind says how a captured argument's values generalise (Arg.Kind).
type ArgKind string

// Argument kinds.
const (
	// KindEnum: the value is one of a set of constants (socket family,
	// ioctl request, prctl option). Each observed value is allowed alone.
	KindEnum ArgKind = "enum"
	// KindFlags: the value is a bit set (clone flags, mmap prot). Observed
	// bits may combine; unseen bits are denied.
	KindFlags ArgKind = "flags"
)

// Recording is what one or more runs of a target were seen to do.
type Recording struct {
	Version int    `json:"version"`
	Tool    string `json:"tool"`
	Kernel  string `json:"kernel"`
	// Arch is the libseccomp name of the recorded ABI, e.g. "amd64".
	Arch    string      `json:"arch"`
	Backend BackendName `json:"backend"`
	Scope   Scope       `json:"scope"`
	// Command is the target's command line.
	Command     []string  `json:"command"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	Exit        Exit      `json:"exit"`
	Interrupted bool      `json:"interrupted"`
	// Lost counts events the backend knows it could not record.
	Lost uint64 `json:"lost"`
	// ArgShapes tells whether argument values were captured at all.
	ArgShapes bool `json:"argShapes"`
	// Inputs is the number of runs merged into this recording; Seen
	// counters below are out of Inputs.
	Inputs int `json:"inputs"`
	// Base names the profile whose allowed syscalls were not logged
	// (log backend with --base); empty otherwise; Mixed for a merge
	// of recordings made against different bases.
	Base string `json:"base,omitempty"`
	// Container describes the container recorded through profgen-runc;
	// nil for other recordings.
	Container *Container `json:"container,omitempty"`
	// EngineProfile is the seccomp profile the engine gave the recorded
	// container and the recorded calls it would have refused
	// (profgen-runc); nil for other recordings.
	EngineProfile *EngineProfile `json:"engineProfile,omitempty"`
	// ReadyAtMs is when the target was ready (record --ready), in
	// milliseconds from Start: the end of PhaseStartup. Nil without
	// readiness, and in a merge of several runs.
	ReadyAtMs *int64 `json:"readyAtMs,omitempty"`
	// StoppedAtMs is when profgen began to stop the target (the --drive
	// command ended, --duration, a signal; profgen-runc: the engine's
	// first kill of the container), in milliseconds from Start: the calls
	// first seen from then on are the target's shutdown, which Saturation
	// leaves out. Nil when the target ended by itself, and in a merge of
	// several runs.
	StoppedAtMs *int64 `json:"stoppedAtMs,omitempty"`
	// Workload names the group of replicas a merged recording is of
	// (merge --by workload); nil for other recordings.
	Workload *Workload `json:"workload,omitempty"`
	Notes    []string  `json:"notes,omitempty"`
	Syscalls []Syscall `json:"syscalls"`
	// Sections holds what was observed for policy kinds other than
	// seccomp (whose section is Syscalls), by kind: each kind is a row of
	// SectionKinds, and its section is that kind's JSON. Format version
	// 2; nil when the recorder observed nothing beyond syscalls.
	Sections map[string]json.RawMessage `json:"sections,omitempty"`
}

// Container is the metadata of a container recorded through an OCI runtime
// wrapper (profgen-runc).
type Container struct {
	// ID is the container id the engine gave the runtime.
	ID string `json:"id"`
	// Bundle is the OCI bundle directory the container was created from.
	Bundle string `json:"bundle"`
	// Image is the image the container runs, when the engine's annotations
	// name it.
	Image string `json:"image,omitempty"`
	// Engine is the engine that created the container: "podman",
	// "docker", "containerd", "cri-o" or "unknown".
	Engine string `json:"engine"`
	// Runtime is the real OCI runtime that ran it (its path).
	Runtime string `json:"runtime"`
	// Pod, Namespace and Name are the Kubernetes pod, its namespace and
	// the container's name in the pod, from the annotations a CRI engine
	// writes into config.json (containerd's io.kubernetes.cri.*, CRI-O's
	// io.kubernetes.pod.* and io.kubernetes.container.name); empty for
	// containers no CRI engine made.
	Pod       string `json:"pod,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
}

// Exit is how the target ended.
type Exit struct {
	// Code is the exit status, or 128+N when the target died of signal N.
	Code int `json:"code"`
	// Signal names the signal that killed the target, if one did.
	Signal string `json:"signal,omitempty"`
}

// Syscall aggregates every observation of one system call.
type Syscall struct {
	Name   string `json:"name"`
	Number int    `json:"number"`
	Count  uint64 `json:"count"`
	// Seen is how many of the recording's Inputs made this syscall.
	Seen int `json:"seen"`
	// Args lists the arguments whose values were captured, in the order
	// of each Shape's Values. Empty when none were.
	Args   []Arg   `json:"args,omitempty"`
	Shapes []Shape `json:"shapes,omitempty"`
	// Unpinned is set when some input saw this syscall without capturing
	// its arguments (the log backend): its arguments must not be pinned.
	Unpinned bool `json:"unpinned,omitempty"`
	Evidence
}

// Event is one kind of call of a syscall: its argument registers as the
// recording knows them (zero where not captured) and how many calls it
// stands for.
type Event struct {
	Args [6]uint64
	// HasArgs is set for an argument shape; unset, Args are all zero and
	// the event stands for every call (no argument was captured).
	HasArgs bool
	Count   uint64
}

// Events expands s into the calls it records: one event per argument
// shape, or one for all its calls when it has no captured argument or no
// shape.
func (s *Syscall) Events() []Event {
	if len(s.Args) == 0 || len(s.Shapes) == 0 {
		return []Event{{Count: s.Count}}
	}
	events := make([]Event, 0, len(s.Shapes))
	for _, sh := range s.Shapes {
		ev := Event{HasArgs: true, Count: sh.Count}
		for k, a := range s.Args {
			if k < len(sh.Values) && a.Index >= 0 && a.Index < len(ev.Args) {
				ev.Args[a.Index] = uint64(sh.Values[k])
			}
		}
		events = append(events, ev)
	}
	return events
}

// Arg describes one captured argument of a syscall.
type Arg struct {
	Index int     `json:"index"`
	Name  string  `json:"name"`
	Kind  ArgKind `json:"kind"`
	// Mask selects the bits that were captured and are compared.
	Mask Hex `json:"mask"`
	// Exclusive lists bit sets that a flags argument may not hold all at
	// once unless such a value was observed (PROT_WRITE|PROT_EXEC).
	Exclusive []Hex `json:"exclusive,omitempty"`
}

// Shape is one combination of captured argument values.
type Shape struct {
	Values []Hex  `json:"values"`
	Count  uint64 `json:"count"`
	Seen   int    `json:"seen"`
	Evidence
}

// Hex is a uint64 written as a hexadecimal JSON string, so that flag values
// read naturally and survive tools that parse numbers as doubles.
type Hex uint64

// MarshalText implements encoding.TextMarshaler.
func (h Hex) MarshalText() ([]byte, error) {
	return []byte("0x" + strconv.FormatUint(uint64(h), 16)), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (h *Hex) UnmarshalText(b []byte) error {
	s := string(b)
	if !strings.HasPrefix(s, "0x") {
		return fmt.Errorf("hex value %q: missing 0x prefix", s)
	}
	v, err := strconv.ParseUint(s[2:], 16, 64)
	if err != nil {
		return fmt.Errorf("hex value %q: %w", s, err)
	}
	*h = Hex(v)
	return nil
}

// Lookup returns the entry for the named syscall, or nil.
func (r *Recording) Lookup(name string) *Syscall {
	i := sort.Search(len(r.Syscalls), func(i int) bool { return r.Syscalls[i].Name >= name })
	if i < len(r.Syscalls) && r.Syscalls[i].Name == name {
		return &r.Syscalls[i]
	}
	return nil
}

// Names returns the recorded syscall names, sorted.
func (r *Recording) Names() []string {
	names := make([]string, len(r.Syscalls))
	for i, s := range r.Syscalls {
		names[i] = s.Name
	}
	return names
}

// Normalize sorts syscalls by name and shapes by value, so that two
// recordings of the same behaviour are byte-identical and diff cleanly.
func (r *Recording) Normalize() {
	sort.Slice(r.Syscalls, func(i, j int) bool { return r.Syscalls[i].Name < r.Syscalls[j].Name })
	for i := range r.Syscalls {
		sh := r.Syscalls[i].Shapes
		sort.Slice(sh, func(a, b int) bool { return lessValues(sh[a].Values, sh[b].Values) })
	}
	r.EngineProfile.normalize()
}

func lessValues(a, b []Hex) bool { return slices.Compare(a, b) < 0 }
