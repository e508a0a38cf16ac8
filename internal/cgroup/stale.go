package cgroup

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/proc"
)

// A cgroup profgen makes is named after its owner, the profgen process that
// made it (a proc.ID):
//
//	profgen-PID-START-PIDNS-SEQ
//
// PID and START (its start time in clock ticks after boot, field 22 of
// /proc/PID/stat) name that one process for the life of the machine, even
// once PID is reused; PIDNS is the inode of its pid namespace, the one PID
// means something in; SEQ tells apart the cgroups of one process. A cgroup
// is stale when its owner is gone: no process PID, or one that started at
// another time, or a zombie. Only then is it killed and removed; one whose
// owner runs, or that belongs to another pid namespace, is never touched.
// Names of older profgen versions, profgen-PID-NANOS, carry no start time:
// they are stale only when no process PID exists at all.

// cgroupSeq numbers the cgroups of this process.
var cgroupSeq atomic.Uint64

// cgroupName returns a new cgroup name for owner.
func cgroupName(o proc.ID) string {
	return fmt.Sprintf("%s%d-%d-%d-%d", Prefix, o.Pid, o.Start, o.PidNS, cgroupSeq.Add(1))
}

// parseCgroupName returns the owner named by a cgroup name of profgen's, in
// the current format or the old profgen-PID-NANOS.
func parseCgroupName(name string) (proc.ID, bool) {
	rest, ok := strings.CutPrefix(name, Prefix)
	if !ok {
		return proc.ID{}, false
	}
	f := strings.Split(rest, "-")
	var n [4]uint64
	if len(f) != 2 && len(f) != 4 {
		return proc.ID{}, false
	}
	for i, s := range f {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return proc.ID{}, false
		}
		n[i] = v
	}
	if n[0] == 0 || n[0] > 1<<22 { // PID_MAX_LIMIT
		return proc.ID{}, false
	}
	o := proc.ID{Pid: int(n[0])}
	if len(f) == 4 {
		o.Start, o.PidNS = n[1], n[2]
	}
	return o, true
}

// gone reports whether owner o surely no longer runs, judged from a process
// in pid namespace ns.
func gone(o proc.ID, ns uint64) bool {
	p, err := proc.ReadStat(o.Pid)
	if o.Start == 0 {
		// Old name: the pid is all there is; a process with that pid
		// may be its owner.
		return errors.Is(err, proc.ErrNoProcess)
	}
	if o.PidNS != ns {
		return false // its pid means nothing here
	}
	switch {
	case errors.Is(err, proc.ErrNoProcess):
		return true
	case err != nil:
		return false // cannot tell: leave it alone
	}
	return p.Start != o.Start || !p.Alive()
}

// removeStaleCgroups kills what runs in the stale cgroups of profgen under
// dir (see above) and removes them. It returns one line for each stale
// cgroup that still held processes (the target of a killed profgen) and
// for each one it could not remove; empty stale cgroups are removed
// silently.
func removeStaleCgroups(dir string) []string {
	ns, err := proc.PidNamespace("self")
	if err != nil {
		return []string{fmt.Sprintf("stale cgroups not looked for: %v", err)}
	}
	entries, _ := os.ReadDir(dir)
	var reports []string
	for _, e := range entries {
		owner, ok := parseCgroupName(e.Name())
		if !e.IsDir() || !ok || !gone(owner, ns) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		procs := SubtreeProcs(path)
		err := KillAndRemove(path)
		switch {
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			reports = append(reports, fmt.Sprintf("stale cgroup %s of profgen pid %d, which is gone, could not be removed: %v", path, owner.Pid, err))
		case len(procs) > 0:
			reports = append(reports, fmt.Sprintf("removed stale cgroup %s of profgen pid %d, which is gone, and killed the %s left running in it", path, owner.Pid, describeProcs(procs)))
		}
	}
	return reports
}

// SubtreeProcs returns the processes in the cgroup at path and in its
// descendants.
func SubtreeProcs(path string) []int {
	var pids []int
	filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		pids = append(pids, ReadProcs(filepath.Join(p, "cgroup.procs"))...)
		return nil
	})
	return pids
}

// ReadProcs reads a cgroup.procs file; a missing file reads as empty.
func ReadProcs(file string) []int {
	data, _ := os.ReadFile(file)
	return proc.ParsePids(data)
}

// describeProcs names processes: "2 processes (sleep 123, sh 120)".
func describeProcs(pids []int) string {
	sort.Ints(pids)
	var names []string
	for i, pid := range pids {
		if i == 8 {
			names = append(names, "...")
			break
		}
		comm := "?"
		if p, err := proc.ReadStat(pid); err == nil {
			comm = p.Comm
		}
		names = append(names, fmt.Sprintf("%s %d", comm, pid))
	}
	what := "processes"
	if len(pids) == 1 {
		what = "process"
	}
	return fmt.Sprintf("%d %s (%s)", len(pids), what, strings.Join(names, ", "))
}

// KillAndRemove kills every process of the cgroup at path and of its
// descendants (cgroup.kill kills the whole subtree) and removes the
// cgroups, the deepest first, waiting up to about 2 s for killed processes
// to leave.
func KillAndRemove(path string) error {
	var err error
	for i := 0; i < 200; i++ {
		if err = removeSubtree(path); err == nil || errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if kerr := os.WriteFile(filepath.Join(path, "cgroup.kill"), []byte("1"), 0); kerr != nil {
			// Before Linux 5.14: kill each process listed.
			for _, pid := range SubtreeProcs(path) {
				unix.Kill(pid, unix.SIGKILL)
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return err
}

// removeSubtree removes the cgroup at path and its descendants, the
// deepest first.
func removeSubtree(path string) error {
	var dirs []string
	err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := os.Remove(dirs[i]); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}
