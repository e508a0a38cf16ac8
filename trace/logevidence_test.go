package trace

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/profgen/profgen/internal/audit"
	"github.com/profgen/profgen/recording"
)

// TestLogEvidenceExes is TestRecordEvidenceExes with the log backend: the
// executables come from the audit records' exe= field (the file the
// kernel ran, symbolic links resolved: /usr/bin/dash for /bin/sh), the first
// sightings from their time stamps; the launcher's execve names no
// executable (profgen's launcher made it).
func TestLogEvidenceExes(t *testing.T) {
	r := evidenceExes(t, newTestLog(t, LogOptions{}), resolved)
	if at := *r.Lookup("wait4").FirstSeenMs; at > 250 {
		t.Errorf("wait4 first seen at %d ms, want before the sleep ended", at)
	}
	if at, end := *r.Lookup("write").FirstSeenMs, r.End.Sub(r.Start).Milliseconds(); at < 300 || at > end {
		t.Errorf("write (echo done, after the sleep) first seen at %d ms, want within 300..%d", at, end)
	}
}

// TestLogEvidencePhases is TestRecordEvidencePhases with the log backend:
// the phase of a call is told by its audit serial number against the
// ready marker's.
func TestLogEvidencePhases(t *testing.T) {
	r := evidencePhases(t, newTestLog(t, LogOptions{}))
	if s := r.Lookup("execve"); s == nil || len(s.Exes) != 0 {
		t.Errorf("execve (the launcher's) %+v, want no executable", s)
	}
}

// TestLogMarkReadyLate: the phase of a call is told by its audit serial
// number against the ready marker's. Calls counted before the marker was
// logged are startup; those counted while its record was awaited move to
// serving when their serial is above the marker's; those read after it
// (the audit stream lags) are judged by their serials too.
func TestLogMarkReadyLate(t *testing.T) {
	a := newAttributor(1, 0, 59, nil)
	at := func(ms int64) string { return formatStamp(time.UnixMilli(1_800_000_000_000 + ms)) }
	k1, k2 := Key{Nr: 1}, Key{Nr: 2}
	a.note(k1, audit.Record{Serial: 10, Time: at(0), Exe: "/bin/a"}, false)
	a.note(k1, audit.Record{Serial: 11, Time: at(500), Exe: "/bin/a"}, false)
	m := audit.Marker{Comm: "pgmark-test"}
	a.awaitReady(m)
	a.note(k2, audit.Record{Serial: 12, Time: at(990), Exe: "/bin/b"}, false) // before the marker
	a.note(k2, audit.Record{Serial: 14, Time: at(1000), Exe: "/bin/b"}, false)
	a.note(k2, audit.Record{Serial: 15, Time: at(1000), Exe: "/bin/b"}, false)
	a.readyMarkerIs(audit.Record{Serial: 13, Pid: os.Getpid(), Syscall: audit.MarkerNr, Comm: "pgmark-other"}) // another marker
	if a.marked {
		t.Fatal("marked by another marker's record")
	}
	a.readyMarkerIs(audit.Record{Serial: 13, Pid: os.Getpid(), Syscall: audit.MarkerNr, Comm: m.Comm})
	a.note(k1, audit.Record{Serial: 9, Time: at(900), Exe: "/bin/a"}, false) // read late, made in startup
	a.note(k1, audit.Record{Serial: 16, Time: at(1200), Exe: "/bin/c"}, false)
	a.note(k2, audit.Record{Serial: 17, Time: at(1300)}, true) // the launcher's: no exe
	obs := &Observations{}
	a.observed(obs)
	e1, e2 := obs.Evidence[k1], obs.Evidence[k2]
	if !mapsEqual(e1.Phases, map[string]uint64{recording.PhaseStartup: 3, recording.PhaseServing: 1}) {
		t.Errorf("key 1: phases %v", e1.Phases)
	}
	if !mapsEqual(e2.Phases, map[string]uint64{recording.PhaseStartup: 1, recording.PhaseServing: 3}) {
		t.Errorf("key 2: phases %v", e2.Phases)
	}
	if len(e1.Exes) != 2 || !e1.Exes["/bin/a"] || !e1.Exes["/bin/c"] || e1.UnnamedExes != 0 {
		t.Errorf("key 1: exes %v, %d unnamed", e1.Exes, e1.UnnamedExes)
	}
	if len(e2.Exes) != 1 || !e2.Exes["/bin/b"] {
		t.Errorf("key 2: exes %v", e2.Exes)
	}
	if want := time.UnixMilli(1_800_000_000_000); !e1.First.Equal(want) {
		t.Errorf("key 1 first seen %v, want %v", e1.First, want)
	}
	if auditTime("") != (time.Time{}) || auditTime("12.5") != (time.Time{}) || !auditTime("1800000000.042").Equal(time.UnixMilli(1_800_000_000_042)) {
		t.Errorf("auditTime")
	}

	// Stopped at 2000 ms: a call logged after the stop marker, stamped
	// before it by the coarse clock, is first seen at the stop.
	c := newAttributor(1, 0, 59, nil)
	stop := audit.Marker{Comm: "pgmark-stop"}
	c.stopMarker, c.stopAt = &stop, time.UnixMilli(1_800_000_002_000)
	c.note(k1, audit.Record{Serial: 20, Time: at(1990)}, false)
	c.readyMarkerIs(audit.Record{Serial: 21, Pid: os.Getpid(), Syscall: audit.MarkerNr, Comm: stop.Comm})
	c.note(k2, audit.Record{Serial: 22, Time: at(1997)}, false)
	obs = &Observations{}
	c.observed(obs)
	if f1, f2 := obs.Evidence[k1].First, obs.Evidence[k2].First; !f1.Equal(time.UnixMilli(1_800_000_001_990)) || !f2.Equal(c.stopAt) {
		t.Errorf("stop marker: first seen %v and %v, want 1990 ms and the stop", f1, f2)
	}

	// The marker's record never came: what was counted since it was
	// logged is serving.
	b := newAttributor(1, 0, 59, nil)
	b.note(k1, audit.Record{Serial: 1, Time: at(0), Exe: "/bin/a"}, false)
	b.awaitReady(m)
	b.note(k1, audit.Record{Serial: 2, Time: at(1), Exe: "/bin/a"}, false)
	obs = &Observations{}
	b.observed(obs)
	if ph := obs.Evidence[k1].Phases; !mapsEqual(ph, map[string]uint64{recording.PhaseStartup: 1, recording.PhaseServing: 1}) {
		t.Errorf("no marker record: phases %v", ph)
	}
}

// formatStamp writes t as an audit record's time stamp.
func formatStamp(t time.Time) string {
	ms := t.UnixMilli()
	return fmt.Sprintf("%d.%03d", ms/1000, ms%1000)
}
