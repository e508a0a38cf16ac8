package trace

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

	"github.com/profgen/profgen/internal/container"
)

// cgroupPrefix starts the name of every cgroup profgen makes, so that ones
// left behind by a killed profgen can be recognised and removed.
const cgroupPrefix = "profgen-"

// Cgroup is a cgroup v2 directory made for one recording.
type Cgroup struct {
	Path string
	// ID is the cgroup id, as bpf_get_current_cgroup_id returns it.
	ID uint64
	// Stale says, one line each, which stale cgroups of profgen still held
	// processes when NewCgroup removed them (see removeStaleCgroups).
	Stale  []string
	fd     int
	reaper *reaper
}

// Cgroup2Mount returns where the cgroup v2 hierarchy is mounted, read from
// /proc/self/mountinfo (on hybrid systems it is not /sys/fs/cgroup).
func Cgroup2Mount() (string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", fmt.Errorf("find cgroup2 mount: %w", err)
	}
	defer f.Close()
	mounts, err := container.ParseMountinfo(f)
	if err != nil {
		return "", fmt.Errorf("find cgroup2 mount: %w", err)
	}
	for _, m := range mounts {
		if m.Type == "cgroup2" {
			return m.Point, nil
		}
	}
	return "", &Unsupported{Op: "find cgroup2 mount", Feature: "no cgroup2 filesystem in /proc/self/mountinfo",
		Fix: "mount one with: mount -t cgroup2 none /sys/fs/cgroup/unified"}
}

// NewCgroup makes a fresh cgroup for a recording under the cgroup v2 mount,
// named after this process (see cgroupName), with a reaper that kills and
// removes it should this process die without Close. It first kills and
// removes the stale cgroups that killed profgen processes left behind
// (see removeStaleCgroups), and lists the populated ones in Stale.
func NewCgroup() (*Cgroup, error) {
	mnt, err := Cgroup2Mount()
	if err != nil {
		return nil, err
	}
	owner, err := selfOwner()
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

// FD returns a descriptor of the cgroup directory, for SysProcAttr.CgroupFD.
func (c *Cgroup) FD() int { return c.fd }

// Procs returns the pids of the processes in the cgroup and in the
// sub-cgroups the target made.
func (c *Cgroup) Procs() ([]int, error) {
	if _, err := os.Stat(filepath.Join(c.Path, "cgroup.procs")); err != nil {
		return nil, fmt.Errorf("read cgroup.procs: %w", err)
	}
	return subtreeProcs(c.Path), nil
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

// emptyWait is how a wait for a cgroup to empty learns that it may have:
// the kernel's notification that cgroup.events changed, and a poll every
// emptyPoll besides; every 20 ms without the notification (no cgroup, or
// inotify refused).
type emptyWait struct {
	events *EventsWatch
	poll   *time.Ticker
}

// newEmptyWait starts waiting for c, which may be nil.
func newEmptyWait(c *Cgroup) emptyWait {
	var w emptyWait
	interval := 20 * time.Millisecond
	if c != nil {
		if ev, err := c.WatchEvents(); err == nil {
			w.events, interval = ev, emptyPoll
		}
	}
	w.poll = time.NewTicker(interval)
	return w
}

func (w emptyWait) stop() {
	w.poll.Stop()
	w.events.Close()
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
	err := killAndRemove(c.Path)
	if err == nil || errors.Is(err, os.ErrNotExist) {
		c.reaper.release()
		return nil
	}
	// The reaper stays: it tries again when this process exits.
	return fmt.Errorf("remove cgroup %s: %w", c.Path, err)
}
