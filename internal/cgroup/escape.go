package cgroup

import (
	"fmt"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/proc"
)

// escapeInterval is how often an EscapeTracker looks at the cgroup when
// the backend cannot tell it that a process moved (MoveWatcher), and the
// least time between two looks it makes when told.
const escapeInterval = 20 * time.Millisecond

// EscapeWatchedInterval is how often it looks when the backend tells it
// of moves: each periodic look is full. A variable for the tests, which
// make it long to see that the notifications alone find an escape.
var EscapeWatchedInterval = 500 * time.Millisecond

// fullLookEvery says how often, in intervals, a look also searches the
// children of every process of the tree (its cost grows with the number of
// threads, not only of processes).
const fullLookEvery = 10

// maxEscapeNotes is how many escaped processes the notes name one by one.
const maxEscapeNotes = 10

// EscapeTracker finds the processes of the target that leave the
// recording's cgroup subtree (the cgroup and the sub-cgroups the target
// makes), for example by writing their pid to another cgroup's
// cgroup.procs. Neither backend sees such a process for what is left of
// the recording (the log backend sees it until the recording ends), the
// cgroup no longer waits for it, and cgroup.kill does not reach it.
//
// How: at each look it reads cgroup.procs of the subtree and
// remembers each process it finds there by pid and start time (so a
// reused pid is never taken for it). A remembered process that still runs
// but is no longer in the subtree escaped; so did every descendant of an
// escaped process (found through /proc/PID/task/TID/children). A full
// look, whenever the session signals the tree (before it does) and when
// the recording ends, also takes every descendant of a remembered process
// that is not in the subtree. Each escaped process is held by a pidfd, so
// it is signalled and waited for without pid races.
//
// When: with a backend that watches moves (the eBPF backend: the kernel's
// cgroup_attach_task and forks into another cgroup), a full look follows
// each move at once (at most one per escapeInterval), and one every
// EscapeWatchedInterval besides; otherwise it looks every escapeInterval,
// a full look every fullLookEvery intervals. Polling that often wakes
// profgen 50 times a second: with the session's 20 ms wait for the cgroup
// to empty (now on inotify), about 2% of a CPU here during a server's load
// (docs/performance.md).
//
// Limits: a process that leaves the subtree before the look that follows
// its birth is found only if its parent in the tree still runs at the next
// full look; one that leaves and ends before the next look is not seen at
// all.
// Only whole processes are followed: cgroup v2 moves threads only within
// a threaded subtree, which stays under the recording's cgroup.
type EscapeTracker struct {
	root   string  // the recording's cgroup directory
	reaper *reaper // told about each escaped process; nil: none
	// moves receives when a process may have moved (MoveWatcher); nil:
	// poll every escapeInterval.
	moves <-chan struct{}

	mu      sync.Mutex
	seen    map[int]uint64 // pid -> start time of the processes seen inside
	escaped []*escapee
	byPid   map[int]*escapee

	stop chan struct{}
	done chan struct{}
}

// escapee is a process that left the recording's cgroup subtree.
type escapee struct {
	pid   int
	start uint64
	comm  string
	to    string // the cgroup it was found in, as /proc/PID/cgroup names it
	fd    int    // pidfd; -1 once closed
	// stopped: it still ran when the recording ended, and was stopped.
	stopped bool
}

// TrackEscapes starts tracking the processes of cg's subtree; main is the
// target's main process, remembered at once in case it is gone by the
// first look; moves, when not nil, tells it that a process moved.
func TrackEscapes(cg *Cgroup, main int, moves <-chan struct{}) *EscapeTracker {
	t := &EscapeTracker{
		root:   cg.Path,
		reaper: cg.reaper,
		moves:  moves,
		seen:   map[int]uint64{},
		byPid:  map[int]*escapee{},
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	if p, err := proc.ReadStat(main); err == nil {
		t.seen[main] = p.Start
	}
	t.look(false)
	go t.run()
	return t
}

func (t *EscapeTracker) run() {
	defer close(t.done)
	interval := escapeInterval
	if t.moves != nil {
		interval = EscapeWatchedInterval
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for n := 1; ; n++ {
		select {
		case <-t.stop:
			return
		case <-tick.C:
			t.look(t.moves != nil || n%fullLookEvery == 0)
		case <-t.moves:
			t.look(true)
			// Moves come in bursts (a runtime starting containers):
			// never more looks than polling would make.
			select {
			case <-t.stop:
				return
			case <-time.After(escapeInterval):
			}
		}
	}
}

// halt stops the periodic looks; it may be called more than once.
func (t *EscapeTracker) halt() {
	select {
	case <-t.stop:
	default:
		close(t.stop)
	}
	<-t.done
}

// inside returns the set of processes in the subtree.
func (t *EscapeTracker) inside() map[int]bool {
	in := map[int]bool{}
	for _, pid := range SubtreeProcs(t.root) {
		in[pid] = true
	}
	return in
}

// look is one look at the subtree; full also searches the descendants of
// every remembered process.
func (t *EscapeTracker) look(full bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	in := t.inside()
	for pid := range in {
		if _, ok := t.seen[pid]; !ok {
			if p, err := proc.ReadStat(pid); err == nil {
				t.seen[pid] = p.Start
			}
		}
	}
	var again map[int]bool // a second read, for processes that moved within the subtree while it was read
	for pid, start := range t.seen {
		if in[pid] {
			continue
		}
		p, err := proc.ReadStat(pid)
		if err != nil || p.Start != start || !p.Alive() {
			delete(t.seen, pid) // it ended
			continue
		}
		if again == nil {
			again = t.inside()
		}
		if !again[pid] {
			delete(t.seen, pid)
			t.escape(pid, p)
		}
	}
	// Descendants of escaped processes are outside too (unless they went
	// back); at the end, so are those of remembered processes.
	roots := make([]int, 0, len(t.escaped))
	for _, e := range t.escaped {
		if e.running() {
			roots = append(roots, e.pid)
		}
	}
	if full {
		for pid := range t.seen {
			roots = append(roots, pid)
		}
	}
	visited := map[int]bool{}
	for len(roots) > 0 {
		pid := roots[0]
		roots = roots[1:]
		if visited[pid] {
			continue
		}
		visited[pid] = true
		for _, c := range proc.Children(pid) {
			if in[c] {
				roots = append(roots, c) // inside, but its children may not be
				continue
			}
			if t.byPid[c] != nil && t.byPid[c].running() {
				roots = append(roots, c)
				continue
			}
			p, err := proc.ReadStat(c)
			if err != nil || !p.Alive() {
				continue
			}
			if again == nil {
				again = t.inside()
			}
			if !again[c] && t.escape(c, p) {
				roots = append(roots, c)
			}
		}
	}
}

// escape records that pid, described by p, escaped; it reports whether pid
// was still that process.
func (t *EscapeTracker) escape(pid int, p proc.Stat) bool {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return false
	}
	// The pidfd names whatever process had the pid when it was opened:
	// it is ours only if ours still has it now.
	if !proc.SameProcess(pid, p.Start) {
		unix.Close(fd)
		return false
	}
	if old := t.byPid[pid]; old != nil && old.start == p.Start {
		unix.Close(fd)
		return true
	}
	// Should profgen die from now on, the reaper kills it.
	t.reaper.escaped(pid, p.Start)
	e := &escapee{pid: pid, start: p.Start, comm: p.Comm, to: proc.CgroupV2(pid), fd: fd}
	t.escaped = append(t.escaped, e)
	t.byPid[pid] = e
	return true
}

// running reports whether the escaped process has not exited.
func (e *escapee) running() bool {
	if e.fd < 0 {
		return false
	}
	fds := []unix.PollFd{{Fd: int32(e.fd), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, 0)
	return err == nil && n == 0
}

// Current takes a full look (as at the end) and returns the escaped
// processes that still run: the session calls it when it signals the tree,
// the moment the tree is still whole.
func (t *EscapeTracker) Current() []int {
	if t == nil {
		return nil
	}
	t.look(true)
	return t.Live()
}

// Kill takes a full look and kills every escaped process that still runs.
func (t *EscapeTracker) Kill() {
	if t == nil {
		return
	}
	t.look(true)
	t.signal(unix.SIGKILL)
}

// Live returns the escaped processes that still run.
func (t *EscapeTracker) Live() []int {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var pids []int
	for _, e := range t.escaped {
		if e.running() {
			pids = append(pids, e.pid)
		}
	}
	return pids
}

// signal sends sig to every escaped process that still runs.
func (t *EscapeTracker) signal(sig syscall.Signal) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, e := range t.escaped {
		if e.running() {
			unix.PidfdSendSignal(e.fd, sig, nil, 0)
		}
	}
}

// wait waits up to d for every escaped process to exit, and reports
// whether they all did.
func (t *EscapeTracker) wait(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for len(t.Live()) > 0 {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// Finish takes the last look, stops what escaped (SIGTERM when term is
// set, SIGKILL after grace) and returns the notes that say what escaped.
func (t *EscapeTracker) Finish(term bool, grace time.Duration) []string {
	if t == nil {
		return nil
	}
	t.halt()
	t.look(true)
	t.mu.Lock()
	for _, e := range t.escaped {
		// It may have execed since it left: name what is stopped.
		if p, err := proc.ReadStat(e.pid); err == nil && p.Start == e.start && e.running() {
			e.comm = p.Comm
			e.stopped = true
		}
	}
	t.mu.Unlock()
	if len(t.Live()) > 0 {
		if term {
			t.signal(unix.SIGTERM)
		}
		if !t.wait(grace) {
			t.signal(unix.SIGKILL)
			t.wait(2 * time.Second)
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var notes []string
	for i, e := range t.escaped {
		if i == maxEscapeNotes {
			notes = append(notes, fmt.Sprintf("%d more processes of the target left the recording's cgroup, and were stopped", len(t.escaped)-i))
			break
		}
		to := e.to
		if to == "" {
			to = "another cgroup"
		}
		end := "it was stopped when the recording ended"
		if !e.stopped {
			end = "it was no longer running when the recording ended"
		}
		notes = append(notes, fmt.Sprintf("process %d (%s) of the target left the recording's cgroup for %s: the recording may miss the syscalls it made there; %s", e.pid, e.comm, to, end))
	}
	return notes
}

// Close stops tracking, kills every escaped process that still runs and
// releases the pidfds. It may be called more than once.
func (t *EscapeTracker) Close() {
	if t == nil {
		return
	}
	t.halt()
	t.signal(unix.SIGKILL)
	t.wait(2 * time.Second)
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, e := range t.escaped {
		if e.fd >= 0 {
			unix.Close(e.fd)
			e.fd = -1
		}
	}
}
