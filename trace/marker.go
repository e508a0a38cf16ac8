package trace

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	seccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/trace/audit"
)

// AuditMarker identifies an audit record profgen logged itself. The kernel
// queues audit records in order and sends them from a kernel thread, so a
// target's last records may still be on the way when it has exited; once a
// marker emitted after that is read, every earlier record has been.
type AuditMarker struct {
	// Session is the marker thread's fresh audit session, or 0 when none
	// could be made (then Comm tells the record apart).
	Session uint32
	// Comm is the marker thread's unique name.
	Comm string
}

// markerNr is the call a marker is made with; profgen makes it nowhere
// else.
const markerNr = unix.SYS_GETCPU

var (
	markerSeq  atomic.Uint32
	markerOnce sync.Once
	markerProg []unix.SockFilter
	markerErr  error
)

// EmitAuditMarker makes one audit record: on a new OS thread, with a fresh
// audit session where one can be had and a unique name, it loads a filter
// that logs getcpu and allows everything else, and calls getcpu. The
// thread is never unlocked, so Go discards it, with its filter, when the
// marker is made.
func EmitAuditMarker() (AuditMarker, error) {
	markerOnce.Do(func() { markerProg, markerErr = compileMarker() })
	if markerErr != nil {
		return AuditMarker{}, fmt.Errorf("audit marker filter: %w", markerErr)
	}
	m := AuditMarker{Comm: fmt.Sprintf("pgmark-%x", markerSeq.Add(1))}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: see above
		if ses, err := audit.NewThreadSession(); err == nil {
			m.Session = ses
		}
		errc <- logMarker(m.Comm)
	}()
	if err := <-errc; err != nil {
		return AuditMarker{}, fmt.Errorf("audit marker: %w", err)
	}
	return m, nil
}

// Is reports whether rec is m's record.
func (m AuditMarker) Is(rec audit.Record) bool {
	if rec.Pid != os.Getpid() || rec.Syscall != markerNr {
		return false
	}
	if m.Session != 0 {
		return rec.Ses == m.Session
	}
	return rec.Comm == m.Comm
}

// logMarker names the calling thread comm, loads the marker filter on it
// and makes the marker call. The thread must be locked and must not run
// anything else afterwards.
func logMarker(comm string) error {
	var old [16]byte
	if err := unix.Prctl(unix.PR_GET_NAME, uintptr(unsafe.Pointer(&old[0])), 0, 0, 0); err != nil {
		return fmt.Errorf("get thread name: %w", err)
	}
	if err := setThreadName(comm); err != nil {
		return err
	}
	if err := installFilterProg(markerProg, 0); err != nil {
		return err
	}
	unix.RawSyscall(markerNr, 0, 0, 0)
	// Should the runtime keep the thread (it never ends the main
	// thread), it keeps its name.
	return setThreadName(unix.ByteSliceToString(old[:]))
}

func compileMarker() ([]unix.SockFilter, error) {
	f, err := seccomp.NewFilter(seccomp.ActAllow)
	if err != nil {
		return nil, err
	}
	defer f.Release()
	if err := f.AddRule(seccomp.ScmpSyscall(markerNr), seccomp.ActLog); err != nil {
		return nil, err
	}
	prog, err := FilterProgram(f)
	if err != nil {
		return nil, err
	}
	return DecodeFilter(prog)
}
