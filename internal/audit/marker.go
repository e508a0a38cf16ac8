package audit

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/internal/seccomp"
)

// Marker identifies an audit record profgen logged itself. The kernel
// queues audit records in order and sends them from a kernel thread, so a
// target's last records may still be on the way when it has exited; once a
// marker emitted after that is read, every earlier record has been.
type Marker struct {
	// Session is the marker thread's fresh audit session, or 0 when none
	// could be made (then Comm tells the record apart).
	Session uint32
	// Comm is the marker thread's unique name.
	Comm string
}

// MarkerNr is the syscall a marker is made with; profgen makes it nowhere
// else.
const MarkerNr = unix.SYS_GETCPU

var (
	markerSeq atomic.Uint32
	// markerFilter compiles the marker's filter once.
	markerFilter = sync.OnceValues(compileMarker)
)

// EmitMarker makes one audit record: on a new OS thread, with a fresh
// audit session where one can be had and a unique name, it loads a filter
// that logs getcpu and allows everything else, and calls getcpu. The
// thread is never unlocked, so Go discards it, with its filter, when the
// marker is made.
func EmitMarker() (Marker, error) {
	prog, err := markerFilter()
	if err != nil {
		return Marker{}, fmt.Errorf("audit marker filter: %w", err)
	}
	m := Marker{Comm: fmt.Sprintf("pgmark-%x", markerSeq.Add(1))}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: see above
		if ses, err := NewThreadSession(); err == nil {
			m.Session = ses
		}
		errc <- logMarker(m.Comm, prog)
	}()
	if err := <-errc; err != nil {
		return Marker{}, fmt.Errorf("audit marker: %w", err)
	}
	return m, nil
}

// Is reports whether rec is m's record.
func (m Marker) Is(rec Record) bool {
	if rec.Pid != os.Getpid() || rec.Syscall != MarkerNr {
		return false
	}
	if m.Session != 0 {
		return rec.Ses == m.Session
	}
	return rec.Comm == m.Comm
}

// logMarker names the calling thread comm, loads the marker filter prog on it
// and makes the marker call. The thread must be locked and must not run
// anything else afterwards.
func logMarker(comm string, prog []unix.SockFilter) error {
	var old [16]byte
	if err := unix.Prctl(unix.PR_GET_NAME, uintptr(unsafe.Pointer(&old[0])), 0, 0, 0); err != nil {
		return fmt.Errorf("get thread name: %w", err)
	}
	if err := seccomp.SetThreadName(comm); err != nil {
		return err
	}
	if err := seccomp.Install(prog, 0); err != nil {
		return err
	}
	unix.RawSyscall(MarkerNr, 0, 0, 0)
	// Should the runtime keep the thread (it never ends the main
	// thread), it keeps its name.
	return seccomp.SetThreadName(unix.ByteSliceToString(old[:]))
}

// compileMarker assembles the marker filter: getcpu of the native ABI is
// logged, everything else allowed.
func compileMarker() ([]unix.SockFilter, error) {
	arch, err := abi.Native()
	if err != nil {
		return nil, err
	}
	native, err := arch.Audit()
	if err != nil {
		return nil, err
	}
	raw, err := bpf.Assemble([]bpf.Instruction{
		bpf.LoadAbsolute{Off: 4, Size: 4}, // seccomp_data.arch
		bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: native, SkipTrue: 2},
		bpf.LoadAbsolute{Off: 0, Size: 4}, // seccomp_data.nr
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: MarkerNr, SkipTrue: 1},
		bpf.RetConstant{Val: unix.SECCOMP_RET_ALLOW},
		bpf.RetConstant{Val: unix.SECCOMP_RET_LOG},
	})
	if err != nil {
		return nil, err
	}
	prog := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		prog[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	return prog, nil
}
