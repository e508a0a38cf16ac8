package replay

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/profgen/profgen/internal/audit"
	"github.com/profgen/profgen/landlock"
	"github.com/profgen/profgen/recording"
)

// LandlockViolation is an access a Landlock ruleset denied (live: named
// by Landlock's own audit records) or would deny (static: a recorded
// access no rule allows).
type LandlockViolation struct {
	// Access is the right denied, by its name in Landlock's
	// configuration format: read_file, make_reg, bind_tcp, ...
	Access string `json:"access"`
	// Path is the file or directory (the directory, for rights checked
	// on it: make_*, remove_*, refer); Port the TCP port.
	Path string `json:"path,omitempty"`
	Port int    `json:"port,omitempty"`
	// Pid (the first), Comm and Exe name the process (live).
	Pid   int    `json:"pid,omitempty"`
	Comm  string `json:"comm,omitempty"`
	Exe   string `json:"exe,omitempty"`
	Count uint64 `json:"count"`
}

// key is what tells two violations apart.
func (v LandlockViolation) key() string {
	return fmt.Sprintf("%s\x00%s\x00%d\x00%s\x00%s", v.Access, v.Path, v.Port, v.Comm, v.Exe)
}

// addLandlock adds v to r, one entry per access, path or port, and
// process.
func (r *Report) addLandlock(v LandlockViolation) {
	i := slices.IndexFunc(r.Landlock, func(w LandlockViolation) bool { return w.key() == v.key() })
	if i >= 0 {
		r.Landlock[i].Count += v.Count
		return
	}
	r.Landlock = append(r.Landlock, v)
	slices.SortFunc(r.Landlock, func(a, b LandlockViolation) int { return strings.Compare(a.key(), b.key()) })
}

// landlockViolations turns one audit denial into violations, one per
// blocker.
func landlockViolations(d audit.LandlockDenial) []LandlockViolation {
	var out []LandlockViolation
	for _, b := range d.Blockers {
		_, access, ok := strings.Cut(b, ".")
		if !ok {
			access = b
		}
		out = append(out, LandlockViolation{
			Access: access, Path: d.Path, Port: d.Port,
			Pid: d.Process.Pid, Comm: d.Process.Comm, Exe: d.Process.Exe, Count: 1,
		})
	}
	return out
}

// StaticLandlock checks every access the recording's landlock section
// holds that succeeded, and every TCP port bound or connected to, against
// the ruleset, as the kernel would check it (a right checked on the
// directory, on the entry's directory; landlock.Target): each one no rule
// allows is a violation. Failed accesses are not checked: the ruleset
// does not grant them (docs/landlock.md).
func StaticLandlock(r *landlock.Ruleset, rec *recording.Recording) (*Report, error) {
	raw, ok := rec.Sections[recording.LandlockKind]
	if !ok {
		return nil, fmt.Errorf("static replay: the recording has no %s section to check the ruleset against", recording.LandlockKind)
	}
	sec, err := recording.ParseLandlock(raw)
	if err != nil {
		return nil, fmt.Errorf("static replay: section %s: %w", recording.LandlockKind, err)
	}
	rep := &Report{Mode: ModeStatic, Violations: []Violation{}, Lost: rec.Lost}
	for _, a := range sec.Accesses {
		if a.OK == 0 {
			continue
		}
		rep.Checked++
		target := landlock.Target(a)
		if ok, _ := r.Allows(target, a.Right); !ok {
			rep.addLandlock(LandlockViolation{Access: a.Right, Path: target, Count: a.OK})
		}
	}
	for _, side := range []struct {
		access string
		ports  []recording.LandlockPort
	}{{"bind_tcp", sec.TCPBind}, {"connect_tcp", sec.TCPConnect}} {
		for _, p := range side.ports {
			rep.Checked++
			if !r.AllowsPort(side.access, uint64(p.Port)) {
				rep.addLandlock(LandlockViolation{Access: side.access, Port: int(p.Port), Count: p.Count})
			}
		}
	}
	if len(sec.Unresolved) > 0 {
		var n uint64
		for _, u := range sec.Unresolved {
			n += u.Count
		}
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d accesses of the recording were not resolved to a path: not checked", n))
	}
	return rep, nil
}

// writeLandlock writes r's Landlock violations as a table.
func (r *Report) writeLandlock(w io.Writer) {
	if len(r.Landlock) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if r.Mode == ModeLive {
		fmt.Fprintln(tw, "LANDLOCK DENIED\tPATH OR PORT\tCOUNT\tPID\tCOMM\tEXE")
	} else {
		fmt.Fprintln(tw, "LANDLOCK DENIED\tPATH OR PORT\tCOUNT")
	}
	for _, v := range r.Landlock {
		what := v.Path
		if v.Port != 0 || what == "" {
			what = fmt.Sprintf("port %d", v.Port)
		}
		if r.Mode == ModeLive {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\n", v.Access, what, v.Count, v.Pid, orDash(v.Comm), orDash(v.Exe))
		} else {
			fmt.Fprintf(tw, "%s\t%s\t%d\n", v.Access, what, v.Count)
		}
	}
	tw.Flush()
}
