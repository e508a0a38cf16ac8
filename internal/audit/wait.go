package audit

import (
	"errors"
	"os"
	"slices"
	"sync"
	"time"
)

// ErrMarkerTimeout is Markers.Wait's error when the marker's record did not
// arrive in time.
var ErrMarkerTimeout = errors.New("the audit marker record did not arrive in time")

// Markers pairs the markers this process emits (EmitMarker) with their
// records, for a consumer whose own goroutine reads the records: it hands
// every record to Take, and calls Stop when its reader stops. Wait blocks
// until a marker's record has been taken: then every record queued before
// the marker has been read.
type Markers struct {
	self int

	mu      sync.Mutex
	cond    *sync.Cond
	seen    []Record // marker records of this process not yet waited for
	stopped bool
	err     error // the reader's error, once stopped
}

// NewMarkers returns a Markers for the records of this process.
func NewMarkers() *Markers {
	m := &Markers{self: os.Getpid()}
	m.cond = sync.NewCond(&m.mu)
	return m
}

// Take keeps rec if it is a marker record of this process, and reports
// whether rec is this process's own: never a workload's.
func (m *Markers) Take(rec Record) bool {
	if rec.Pid != m.self {
		return false
	}
	if rec.Syscall == MarkerNr {
		m.mu.Lock()
		m.seen = append(m.seen, rec)
		m.cond.Broadcast()
		m.mu.Unlock()
	}
	return true
}

// Stop tells the waiters that no record comes any more: the reader stopped
// with err (ErrClosed when nil).
func (m *Markers) Stop(err error) {
	if err == nil {
		err = ErrClosed
	}
	m.mu.Lock()
	m.stopped, m.err = true, err
	m.cond.Broadcast()
	m.mu.Unlock()
}

// Wait waits up to timeout for the record of mk (emitted by EmitMarker):
// nil once it has been taken (it may have been before Wait was called),
// the reader's error once it stopped, ErrMarkerTimeout when the time is
// up.
func (m *Markers) Wait(mk Marker, timeout time.Duration) error {
	timedOut := false // under m.mu
	deadline := time.AfterFunc(timeout, func() {
		m.mu.Lock()
		timedOut = true
		m.cond.Broadcast()
		m.mu.Unlock()
	})
	defer deadline.Stop()
	m.mu.Lock()
	defer m.mu.Unlock()
	for {
		if i := slices.IndexFunc(m.seen, mk.Is); i >= 0 {
			m.seen = slices.Delete(m.seen, i, i+1)
			return nil
		}
		if m.stopped {
			return m.err
		}
		if timedOut {
			return ErrMarkerTimeout
		}
		m.cond.Wait()
	}
}
