package cgroup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/errs"
	"github.com/profgen/profgen/internal/proc"
)

// Prefix starts the name of every cgroup profgen makes, so that ones
// left behind by a killed profgen can be recognised and removed.
const Prefix = "profgen-"

// Cgroup is a cgroup v2 directory made for one recording.
type Cgroup struct {
	Path string
	// ID is the cgroup id, as bpf_get_current_cgroup_id returns it.
	ID uint64
	// Stale says, one line each, which stale cgroups of profgen still held
	// processes when New removed them (see removeStaleCgroups).
	Stale  []string
	fd     int
	reaper *reaper
}

// V2Mount returns where the cgroup v2 hierarchy is mounted, read from
// /proc/self/mountinfo (on hybrid systems it is not /sys/fs/cgroup).
func V2Mount() (string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", fmt.Errorf("find cgroup2 mount: %w", err)
	}
	defer f.Close()
	mounts, err := ParseMountinfo(f)
	if err != nil {
		return "", fmt.Errorf("find cgroup2 mount: %w", err)
	}
	for _, m := range mounts {
		if m.Type == "cgroup2" {
			return m.Point, nil
		}
	}
	return "", &errs.Unsupported{Op: "find cgroup2 mount", Feature: "no cgroup2 filesystem in /proc/self/mountinfo",
		Fix: "mount one with: mount -t cgroup2 none /sys/fs/cgroup/unified"}
}

// New makes a fresh cgroup for a recording under the cgroup v2 mount,
// named after this process (see cgroupName), with a reaper that kills and
// removes it should this process die without Close. It first kills and
// removes the stale cgroups that killed profgen processes left behind
// (see removeStaleCgroups), and lists the populated ones in Stale.
func New() (*Cgroup, error) {
	mnt, err := V2Mount()
	if err != nil {
		return nil, err
	}
	owner, err := proc.Self()
	if err != nil {
		return nil, fmt.Errorf("create cgroup: %w", err)
	}
	stale := removeStaleCgroups(mnt)
	path := filepath.Join(mnt, cgroupName(owner))
	if err := os.Mkdir(path, 0o755); err != nil {
		return nil, fmt.Errorf("create cgroup: %w", err)
	}
	fd, err := unix.Open(path, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("open cgroup %s: %w", path, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		os.Remove(path)
		return nil, fmt.Errorf("stat cgroup %s: %w", path, err)
	}
	r, err := startReaper(path)
	if err != nil {
		unix.Close(fd)
		os.Remove(path)
		return nil, err
	}
	return &Cgroup{Path: path, ID: st.Ino, Stale: stale, fd: fd, reaper: r}, nil
}

// Of returns the cgroup v2 directory that process pid is in, from
// /proc/PID/cgroup and the cgroup2 mount in /proc/self/mountinfo.
func Of(pid int) (string, error) {
	mnt, err := V2Mount()
	if err != nil {
		return "", err
	}
	rel, ok, _, err := proc.ReadCgroups(pid)
	if err != nil {
		return "", fmt.Errorf("cgroup of process %d: %w", pid, err)
	}
	// 0::/libpod_parent/libpod-ID
	if ok {
		return filepath.Join(mnt, rel), nil
	}
	return "", fmt.Errorf("cgroup of process %d: %w: it is in no cgroup v2", pid, errs.ErrNotSupported)
}

// Open opens an existing cgroup v2 directory that profgen did not make.
// The returned Cgroup must be released with Release, never Close (which
// would kill its processes and remove it).
func Open(path string) (*Cgroup, error) {
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
		return nil, fmt.Errorf("open cgroup %s: %w: not a cgroup v2 directory", path, errs.ErrNotSupported)
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

// Level returns the level of the cgroup v2 directory path in the
// kernel's hierarchy (the root is level 0) when it can be known for sure:
// the cgroup2 mount is the hierarchy's root (its directory has the root
// cgroup's id, 1), not a subtree (a cgroup namespace, a bind mount), and
// path lies below it. Otherwise the recorder asks the kernel per call.
func Level(path string) (uint32, bool) {
	mnt, err := V2Mount()
	if err != nil {
		return 0, false
	}
	var st unix.Stat_t
	if err := unix.Stat(mnt, &st); err != nil || st.Ino != 1 {
		return 0, false
	}
	rel, err := filepath.Rel(mnt, path)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, "../") {
		return 0, false
	}
	return uint32(len(strings.Split(rel, "/"))), true
}

// FD returns a descriptor of the cgroup directory, for SysProcAttr.CgroupFD.
func (c *Cgroup) FD() int { return c.fd }

// Procs returns the pids of the processes in the cgroup and in the
// sub-cgroups the target made.
func (c *Cgroup) Procs() ([]int, error) {
	if _, err := os.Stat(filepath.Join(c.Path, "cgroup.procs")); err != nil {
		return nil, fmt.Errorf("read cgroup.procs: %w", err)
	}
	return SubtreeProcs(c.Path), nil
}

// Populated reports whether any process is left in the cgroup.
func (c *Cgroup) Populated() (bool, error) {
	data, err := os.ReadFile(filepath.Join(c.Path, "cgroup.events"))
	if err != nil {
		return false, fmt.Errorf("read cgroup.events: %w", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "populated "); ok {
			return v == "1", nil
		}
	}
	return false, errors.New("read cgroup.events: no populated field")
}

// EventsWatch tells when the cgroup's cgroup.events changed: the kernel
// signals a modification of that file (inotify IN_MODIFY) whenever a
// field changes, populated among them, so a wait for the cgroup to empty
// needs no polling.
type EventsWatch struct {
	f  *os.File
	c  chan struct{}
	wg sync.WaitGroup
}

// WatchEvents starts watching cgroup.events.
func (c *Cgroup) WatchEvents() (*EventsWatch, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("inotify_init1: %w", err)
	}
	if _, err := unix.InotifyAddWatch(fd, filepath.Join(c.Path, "cgroup.events"), unix.IN_MODIFY); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("watch %s/cgroup.events: %w", c.Path, err)
	}
	w := &EventsWatch{f: os.NewFile(uintptr(fd), "inotify"), c: make(chan struct{}, 1)}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		buf := make([]byte, 4096)
		for {
			if _, err := w.f.Read(buf); err != nil {
				return // closed
			}
			select {
			case w.c <- struct{}{}:
			default: // one pending is enough
			}
		}
	}()
	return w, nil
}

// C receives after a change of cgroup.events (coalesced; never closed).
// A nil watch has a nil channel, which never receives.
func (w *EventsWatch) C() <-chan struct{} {
	if w == nil {
		return nil
	}
	return w.c
}

// Close stops the watch; a nil watch is closed.
func (w *EventsWatch) Close() {
	if w == nil {
		return
	}
	w.f.Close()
	w.wg.Wait()
}

// emptyPoll is how often a wait for a watched cgroup to empty reads
// cgroup.events besides the kernel's notifications: a safety net.
const emptyPoll = time.Second

// EmptyWait is how a wait for a cgroup to empty learns that it may have:
// the kernel's notification that cgroup.events changed, and a poll every
// emptyPoll besides; every 20 ms without the notification (no cgroup, or
// inotify refused).
type EmptyWait struct {
	Events *EventsWatch // nil without one: its C never receives
	Poll   *time.Ticker
}

// NewEmptyWait starts waiting for c, which may be nil.
func NewEmptyWait(c *Cgroup) EmptyWait {
	var w EmptyWait
	interval := 20 * time.Millisecond
	if c != nil {
		if ev, err := c.WatchEvents(); err == nil {
			w.Events, interval = ev, emptyPoll
		}
	}
	w.Poll = time.NewTicker(interval)
	return w
}

// Stop ends the wait.
func (w EmptyWait) Stop() {
	w.Poll.Stop()
	w.Events.Close()
}

// Signal sends sig to every process in the cgroup and its sub-cgroups.
func (c *Cgroup) Signal(sig syscall.Signal) error {
	pids, err := c.Procs()
	if err != nil {
		return err
	}
	for _, pid := range pids {
		unix.Kill(pid, sig)
	}
	return nil
}

// Kill kills every process in the cgroup and its sub-cgroups at once
// (cgroup.kill, Linux 5.14),
// falling back to SIGKILL for each process listed.
func (c *Cgroup) Kill() error {
	if err := os.WriteFile(filepath.Join(c.Path, "cgroup.kill"), []byte("1"), 0); err == nil {
		return nil
	}
	return c.Signal(unix.SIGKILL)
}

// Close kills what is left in the cgroup and in the sub-cgroups the target
// made, waits for them to empty, removes them and releases the reaper. It
// may be called more than once.
func (c *Cgroup) Close() error {
	if c == nil || c.fd < 0 {
		return nil
	}
	unix.Close(c.fd)
	c.fd = -1
	err := KillAndRemove(c.Path)
	if err == nil || errors.Is(err, os.ErrNotExist) {
		c.reaper.release()
		return nil
	}
	// The reaper stays: it tries again when this process exits.
	return fmt.Errorf("remove cgroup %s: %w", c.Path, err)
}
