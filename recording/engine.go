package recording

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/profgen/profgen/internal/abi"
)

// EngineProfile is the seccomp profile an engine gave a container that
// profgen-runc recorded (the linux.seccomp of its config.json), and which of
// the recorded calls that profile would have refused. profgen-runc records
// under a log-only copy of it (every refusing action becomes SCMP_ACT_LOG),
// so that the recorder sees the calls the engine's profile would refuse;
// Refused is the evidence of which they were.
type EngineProfile struct {
	// DefaultAction is the profile's defaultAction, an OCI action name
	// ("SCMP_ACT_ERRNO"); Mixed for a merge of recordings made under
	// different profiles.
	DefaultAction string `json:"defaultAction"`
	// DefaultErrno is the errno of an SCMP_ACT_ERRNO default action (its
	// defaultErrnoRet, or runc's EPERM when it has none).
	DefaultErrno int `json:"defaultErrno,omitempty"`
	// Enforced is set when the engine's profile was left in force for the
	// recording (the io.profgen.keep-seccomp annotation): the calls it
	// refused never reached the recorder, and Refused cannot name them.
	Enforced bool `json:"enforced,omitempty"`
	// Unjudged says why the recorded calls could not be judged against
	// the profile; Refused is then empty without meaning that nothing
	// would have been refused.
	Unjudged string `json:"unjudged,omitempty"`
	// Refused lists the recorded calls the profile would have refused,
	// sorted by name, then values.
	Refused []Refusal `json:"refused,omitempty"`
}

// Refusal is one kind of recorded call that an engine's profile would have
// refused, and what it would have done instead.
type Refusal struct {
	// Name is the syscall.
	Name string `json:"name"`
	// Action is the profile's action for these calls, an OCI action name
	// ("SCMP_ACT_ERRNO", "SCMP_ACT_KILL_PROCESS" ...).
	Action string `json:"action"`
	// Errno and ErrnoName are the error an SCMP_ACT_ERRNO action returns
	// (38, "ENOSYS").
	Errno     int    `json:"errno,omitempty"`
	ErrnoName string `json:"errnoName,omitempty"`
	// Values are the calls' captured argument values, in the order of
	// the syscall's args in the recording; absent when the profile
	// refuses the syscall whatever its arguments.
	Values []Hex `json:"values,omitempty"`
	// Maybe is set when the profile decides the syscall by argument
	// values the recording did not capture: the calls were refused only
	// if their arguments matched the refusing side of the profile.
	Maybe bool `json:"maybe,omitempty"`
	// Count is how many recorded calls these are.
	Count uint64 `json:"count"`
}

// key identifies a refusal for merging: everything but its count.
func (f *Refusal) key() string {
	return fmt.Sprintf("%s\x00%s\x00%d\x00%s\x00%v\x00%v", f.Name, f.Action, f.Errno, f.ErrnoName, f.Values, f.Maybe)
}

// compareRefusals orders refusals by name, then values, action, errno and
// maybe.
func compareRefusals(a, b Refusal) int {
	return cmp.Or(
		cmp.Compare(a.Name, b.Name),
		slices.Compare(a.Values, b.Values),
		cmp.Compare(a.Action, b.Action),
		cmp.Compare(a.Errno, b.Errno),
		cmp.Compare(a.ErrnoName, b.ErrnoName),
		compareBool(a.Maybe, b.Maybe),
	)
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

// normalize sorts e's refusals.
func (e *EngineProfile) normalize() {
	if e != nil {
		slices.SortFunc(e.Refused, compareRefusals)
	}
}

// validate checks e against r's architecture.
func (e *EngineProfile) validate(arch abi.Arch) error {
	if e.DefaultAction == "" {
		return fmt.Errorf("%w: engineProfile: no defaultAction", ErrFormat)
	}
	for i, f := range e.Refused {
		where := fmt.Sprintf("engineProfile.refused[%d] (%s)", i, f.Name)
		if _, err := abi.SyscallNumber(arch, f.Name); err != nil {
			return fmt.Errorf("%w: %s: %v", ErrFormat, where, err)
		}
		if f.Action == "" {
			return fmt.Errorf("%w: %s: no action", ErrFormat, where)
		}
		if len(f.Values) > 6 {
			return fmt.Errorf("%w: %s: %d values, at most 6", ErrFormat, where, len(f.Values))
		}
		if f.Count < 1 {
			return fmt.Errorf("%w: %s: count %d, at least 1", ErrFormat, where, f.Count)
		}
		if i > 0 && compareRefusals(e.Refused[i-1], f) >= 0 {
			return fmt.Errorf("%w: %s: refusals not sorted or repeated", ErrFormat, where)
		}
	}
	return nil
}

// mergeEngine returns the union of the engine profiles of recs (nil when
// none has one): every refusal any of them holds, counts added; the default
// action of them all, or Mixed; enforced if any was; the least reason of
// those that could not be judged. The result does not depend on the order
// of recs.
func mergeEngine(recs []*Recording) *EngineProfile {
	var out *EngineProfile
	index := map[string]int{}
	for _, r := range recs {
		e := r.EngineProfile
		if e == nil {
			continue
		}
		if out == nil {
			out = &EngineProfile{DefaultAction: e.DefaultAction, DefaultErrno: e.DefaultErrno, Unjudged: e.Unjudged}
		}
		if e.DefaultAction != out.DefaultAction || e.DefaultErrno != out.DefaultErrno {
			out.DefaultAction, out.DefaultErrno = Mixed, 0
		}
		out.Enforced = out.Enforced || e.Enforced
		if e.Unjudged != "" && (out.Unjudged == "" || e.Unjudged < out.Unjudged) {
			out.Unjudged = e.Unjudged
		}
		for _, f := range e.Refused {
			k := f.key()
			if i, ok := index[k]; ok {
				out.Refused[i].Count = addCount(out.Refused[i].Count, f.Count)
				continue
			}
			index[k] = len(out.Refused)
			f.Values = slices.Clone(f.Values)
			out.Refused = append(out.Refused, f)
		}
	}
	out.normalize()
	return out
}
