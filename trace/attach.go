package trace

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/profgen/profgen/argspec"
	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/internal/cgroup"
	"github.com/profgen/profgen/recording"
)

// AttachOptions configures a recording of a cgroup whose processes profgen
// did not start, such as a container's that waits in its runtime's init.
type AttachOptions struct {
	// Cgroup is the cgroup v2 directory to record. Every syscall of its
	// tasks from the first execve one of them makes on is counted.
	Cgroup string
	// Backend observes the cgroup: only the eBPF backend can (the log
	// backend must install its filter in the target's own process).
	Backend Backend
	// Command is what the cgroup runs, for the recording's command field.
	Command []string
	// ArgTable says which arguments are captured; nil means argspec.Table.
	ArgTable []argspec.Entry
	// Tool names the recording tool and version.
	Tool string
	// Notes are added to the recording.
	Notes []string
}

// Attached is a recording of an existing cgroup in progress.
type Attached struct {
	opts  AttachOptions
	cg    *Cgroup
	arch  abi.Arch
	args  map[int][]recording.Arg
	start time.Time
	done  bool

	mu sync.Mutex
	// ready is when the target was ready (MarkReady); zero before.
	ready time.Time
}

// Attach starts recording an existing cgroup. When it returns without an
// error, the backend counts every syscall of the cgroup's tasks from the
// first execve on; Finish stops it. As with Record, the backend stays
// open: its creator closes it, after Finish or when Attach fails.
func Attach(opts AttachOptions) (a *Attached, err error) {
	if opts.Backend == nil {
		return nil, errors.New("attach: no backend")
	}
	armer, ok := opts.Backend.(ExecArmer)
	if !ok {
		return nil, fmt.Errorf("attach: the %s backend cannot record processes it did not start; use the eBPF backend", opts.Backend.Name())
	}
	arch, masks, args, err := nativeArgTable(opts.ArgTable)
	if err != nil {
		return nil, err
	}
	cg, err := cgroup.Open(opts.Cgroup)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			cg.Release()
		}
	}()
	if c, ok := opts.Backend.(ArgCapturer); ok {
		if err := c.CaptureArgs(masks); err != nil {
			return nil, err
		}
	}
	armer.ArmOnExec()
	if err := opts.Backend.Prepare(&Target{Cmd: &exec.Cmd{}, Cgroup: cg}); err != nil {
		return nil, fmt.Errorf("prepare %s backend: %w", opts.Backend.Name(), err)
	}
	return &Attached{opts: opts, cg: cg, arch: arch, args: args, start: time.Now()}, nil
}

// Cgroup returns the cgroup being recorded.
func (a *Attached) Cgroup() *Cgroup { return a.cg }

// Populated reports whether any process is left in the recorded cgroup; a
// cgroup that was removed is empty.
func (a *Attached) Populated() bool {
	p, err := a.cg.Populated()
	if err != nil {
		return false
	}
	return p
}

// WaitEmpty waits until no process is left in the recorded cgroup (true)
// or stop receives (false): it wakes when cgroup.events changes (inotify),
// and reads it once a second besides (every 20 ms when inotify is refused).
func (a *Attached) WaitEmpty(stop <-chan os.Signal) bool {
	w := cgroup.NewEmptyWait(a.cg)
	defer w.Stop()
	for a.Populated() {
		select {
		case <-w.Poll.C:
		case <-w.Events.C():
		case <-stop:
			return false
		}
	}
	return true
}

// Events returns the number of syscalls counted so far.
func (a *Attached) Events() uint64 { return a.opts.Backend.Events() }

// MarkReady says the target is ready now (profgen-runc's
// io.profgen.ready): the calls before were its start-up, those after its
// serving (PhaseMarker), and the recording's readyAtMs is now. It may be
// called once, before Finish, from another goroutine than Finish's.
func (a *Attached) MarkReady() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.done {
		return errors.New("attach: MarkReady after Finish")
	}
	if !a.ready.IsZero() {
		return errors.New("attach: MarkReady called twice")
	}
	p, ok := a.opts.Backend.(PhaseMarker)
	if !ok {
		return fmt.Errorf("attach: the %s backend does not count phases", a.opts.Backend.Name())
	}
	at := time.Now()
	if err := p.MarkReady(at); err != nil {
		return fmt.Errorf("%s backend: %w", a.opts.Backend.Name(), err)
	}
	a.ready = at
	return nil
}

// Finish stops observing and returns the recording; closing the backend
// then unloads what it loaded. interrupted marks a recording that was
// stopped before the cgroup emptied.
func (a *Attached) Finish(interrupted bool) (*recording.Recording, []string, error) {
	a.mu.Lock()
	if a.done {
		a.mu.Unlock()
		return nil, nil, errors.New("attach: Finish called twice")
	}
	a.done = true
	ready := a.ready
	a.mu.Unlock()
	defer a.cg.Release()
	end := time.Now()
	obs, err := collect(a.opts.Backend)
	if err != nil {
		return nil, nil, err
	}
	// The target is not profgen's child, so its exit status is unknown
	// (-1: no process state).
	return buildRecording(run{
		tool:        a.opts.Tool,
		command:     a.opts.Command,
		backend:     a.opts.Backend.Name(),
		start:       a.start,
		end:         end,
		ready:       ready,
		interrupted: interrupted,
		notes:       a.opts.Notes,
	}, a.arch, obs, a.args)
}
