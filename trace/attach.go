package trace

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/recording"
)

// CgroupOf returns the cgroup v2 directory that process pid is in, from
// /proc/PID/cgroup and the cgroup2 mount in /proc/self/mountinfo.
func CgroupOf(pid int) (string, error) {
	mnt, err := Cgroup2Mount()
	if err != nil {
		return "", err
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return "", fmt.Errorf("cgroup of process %d: %w", pid, err)
	}
	// 0::/libpod_parent/libpod-ID
	if rel, ok := cgroupV2Path(data); ok {
		return filepath.Join(mnt, rel), nil
	}
	return "", fmt.Errorf("cgroup of process %d: %w: it is in no cgroup v2", pid, ErrNotSupported)
}

// OpenCgroup opens an existing cgroup v2 directory that profgen did not make.
// The returned Cgroup must be released with Release, never Close (which
// would kill its processes and remove it).
func OpenCgroup(path string) (*Cgroup, error) {
	fd, err := unix.Open(path, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open cgroup %s: %w", path, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("stat cgroup %s: %w", path, err)
	}
	var sfs unix.Statfs_t
	if err := unix.Fstatfs(fd, &sfs); err != nil || sfs.Type != unix.CGROUP2_SUPER_MAGIC {
		unix.Close(fd)
		return nil, fmt.Errorf("open cgroup %s: %w: not a cgroup v2 directory", path, ErrNotSupported)
	}
	return &Cgroup{Path: path, ID: st.Ino, fd: fd}, nil
}

// Release closes c's descriptor and leaves the cgroup and its processes
// alone.
func (c *Cgroup) Release() {
	if c != nil && c.fd >= 0 {
		unix.Close(c.fd)
		c.fd = -1
	}
}

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
	// ArgTable says which arguments are captured; nil means ArgTable.
	ArgTable []SyscallArgs
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
}

// Attach starts recording an existing cgroup. When it returns without an
// error, the backend counts every syscall of the cgroup's tasks from the
// first execve on; Finish stops it. As with Record, the backend stays
// open: its creator closes it, after Finish or when Attach fails.
func Attach(opts AttachOptions) (a *Attached, err error) {
	if opts.Backend == nil {
		return nil, errors.New("attach: no backend")
	}
	if _, ok := opts.Backend.(*EBPF); !ok {
		return nil, fmt.Errorf("attach: the %s backend cannot record processes it did not start; use the eBPF backend", opts.Backend.Name())
	}
	arch, masks, args, err := nativeArgTable(opts.ArgTable)
	if err != nil {
		return nil, err
	}
	cg, err := OpenCgroup(opts.Cgroup)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			cg.Release()
		}
	}()
	e := opts.Backend.(*EBPF)
	if err := e.CaptureArgs(masks); err != nil {
		return nil, err
	}
	e.mu.Lock()
	e.armOnExec = true
	e.mu.Unlock()
	if err := e.Prepare(&Target{Cmd: &exec.Cmd{}, Cgroup: cg}); err != nil {
		return nil, fmt.Errorf("prepare %s backend: %w", e.Name(), err)
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
	w := newEmptyWait(a.cg)
	defer w.stop()
	for a.Populated() {
		select {
		case <-w.poll.C:
		case <-w.events.C():
		case <-stop:
			return false
		}
	}
	return true
}

// Events returns the number of syscalls counted so far.
func (a *Attached) Events() uint64 { return a.opts.Backend.Events() }

// Finish stops observing and returns the recording; closing the backend
// then unloads what it loaded. interrupted marks a recording that was
// stopped before the cgroup emptied.
func (a *Attached) Finish(interrupted bool) (*recording.Recording, []string, error) {
	if a.done {
		return nil, nil, errors.New("attach: Finish called twice")
	}
	a.done = true
	defer a.cg.Release()
	end := time.Now()
	obs, err := collect(a.opts.Backend)
	if err != nil {
		return nil, nil, err
	}
	// The session's recording builder serves here too; the target is not
	// profgen's child, so its exit status is unknown (-1).
	s := &session{
		opts:        Options{Command: a.opts.Command, Tool: a.opts.Tool},
		backend:     a.opts.Backend,
		cmd:         &exec.Cmd{},
		notes:       a.opts.Notes,
		start:       a.start,
		end:         end,
		interrupted: interrupted,
	}
	rec, warnings, err := s.build(a.arch, obs, a.args)
	if err != nil {
		return nil, nil, err
	}
	return rec, warnings, nil
}
