package audit

// Attribution: which audit records belong to a workload. Every process on
// the machine sends its records to the audit socket; a consumer (the log
// backend, live replay's collector, the monitor) keeps those of its target,
// told by audit session, by cgroup, or by the record's own fields. The
// rules are here once; what is done with a kept record is the consumer's.

// Why tells how a record was attributed (Attributor.Attribute).
type Why int

const (
	// Out: the record is not the target's.
	Out Why = iota
	// All: the attributor has neither sessions nor a membership function:
	// every record that passes its Filter is kept.
	All
	// InSession: the record's session is one of the target's.
	InSession
	// Followed: a process of the target (seen before in its sessions, or
	// in its cgroup) made an audit session of its own (pam_loginuid does
	// in login daemons); its new session is the target's from now on.
	// Only with Follow.
	Followed
	// InCgroup: the membership function placed the record's process in
	// the target.
	InCgroup
	// Gone: the membership function could not place the process, gone
	// before its cgroups could be read; the record may have been the
	// target's.
	Gone
)

// Verdict is the answer for one record: why it was kept (Out when not)
// and, for InCgroup, the target the membership function named.
type Verdict struct {
	Why    Why
	Target string
}

// In reports whether the record was kept.
func (v Verdict) In() bool { return v.Why != Out && v.Why != Gone }

// Attributor decides which records are the target's. Its fields are the
// options and may be set between calls; its zero value keeps every record.
// It is not safe for concurrent use: consumers hold it under their lock.
type Attributor struct {
	// Filter, if set, must pass for a record to be kept at all (fields of
	// the record itself: pid, comm, exe).
	Filter func(Record) bool
	// Sessions are the target's audit sessions: a record of one is kept.
	// With Follow, sessions the target's processes make are added to it.
	Sessions map[uint32]bool
	// Follow: a process seen in one of Sessions, or placed by Member, is
	// the target's whatever its session, and a new session of its is
	// adopted (the unset one never is).
	Follow bool
	// Member, if set, places a process whose record is not in one of
	// Sessions: whether it is in the target (cgroup membership), and which
	// target when the caller has several (else ""). An error means the
	// process is gone: the record is Gone.
	Member func(pid int) (target string, in bool, err error)
	// Cache remembers Member's answers by pid for the attributor's life (a
	// pid reused later keeps its first answer); errors are not remembered.
	Cache bool

	known  map[int]bool    // pids seen in Sessions (Follow)
	placed map[int]verdict // Member's answers (Cache)
}

type verdict struct {
	target string
	in     bool
}

// Attribute decides for one record. Order: Filter; neither Sessions nor
// Member: All; the record's session; with Follow, a pid seen before in
// the target's sessions; Member.
func (a *Attributor) Attribute(rec Record) Verdict {
	if a.Filter != nil && !a.Filter(rec) {
		return Verdict{}
	}
	if a.Sessions == nil && a.Member == nil {
		return Verdict{Why: All}
	}
	if a.Sessions[rec.Ses] {
		if a.Follow {
			a.know(rec.Pid)
		}
		return Verdict{Why: InSession}
	}
	if a.Follow && a.known[rec.Pid] {
		a.adopt(rec.Ses)
		return Verdict{Why: Followed}
	}
	if a.Member == nil {
		return Verdict{}
	}
	target, in, err := a.member(rec.Pid)
	switch {
	case err != nil:
		return Verdict{Why: Gone}
	case !in:
		return Verdict{}
	case a.Follow:
		// A process whose earlier calls were not seen: its cgroup tells.
		a.adopt(rec.Ses)
		a.know(rec.Pid)
		return Verdict{Why: Followed, Target: target}
	}
	return Verdict{Why: InCgroup, Target: target}
}

func (a *Attributor) member(pid int) (string, bool, error) {
	if v, ok := a.placed[pid]; ok && a.Cache {
		return v.target, v.in, nil
	}
	target, in, err := a.Member(pid)
	if err == nil && a.Cache {
		if a.placed == nil {
			a.placed = map[int]verdict{}
		}
		a.placed[pid] = verdict{target, in}
	}
	return target, in, err
}

func (a *Attributor) know(pid int) {
	if a.known == nil {
		a.known = map[int]bool{}
	}
	a.known[pid] = true
}

// adopt takes records of session ses as the target's from now on. The
// unset session is never adopted: most processes of a machine have it.
func (a *Attributor) adopt(ses uint32) {
	if ses == SessionUnset {
		return
	}
	if a.Sessions == nil {
		a.Sessions = map[uint32]bool{}
	}
	a.Sessions[ses] = true
}
