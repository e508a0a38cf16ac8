package audit

import (
	"errors"
	"os"
	"testing"
	"time"
)

// TestMarkersWait: a marker's record taken before or while Wait waits ends
// the wait, once; another process's records are not taken; no record is a
// timeout; a stopped reader is its error.
func TestMarkersWait(t *testing.T) {
	m := NewMarkers()
	if m.Take(Record{Pid: os.Getpid() + 1, Syscall: MarkerNr, Comm: "pgmark-1"}) {
		t.Error("another process's record taken as profgen's own")
	}
	early := Marker{Comm: "pgmark-1"}
	if !m.Take(Record{Pid: os.Getpid(), Syscall: MarkerNr, Comm: early.Comm}) {
		t.Fatal("own record not taken")
	}
	if err := m.Wait(early, time.Second); err != nil {
		t.Fatalf("record taken before Wait: %v", err)
	}
	if err := m.Wait(early, 10*time.Millisecond); !errors.Is(err, ErrMarkerTimeout) {
		t.Fatalf("second wait for the same record: %v, want ErrMarkerTimeout", err)
	}
	late := Marker{Session: 7}
	go func() {
		time.Sleep(10 * time.Millisecond)
		m.Take(Record{Pid: os.Getpid(), Syscall: MarkerNr, Ses: 7})
	}()
	if err := m.Wait(late, 10*time.Second); err != nil {
		t.Fatalf("record taken during Wait: %v", err)
	}
	m.Stop(nil)
	if err := m.Wait(Marker{Comm: "pgmark-2"}, 10*time.Second); !errors.Is(err, ErrClosed) {
		t.Fatalf("stopped reader: %v, want ErrClosed", err)
	}
}
