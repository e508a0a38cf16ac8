package proc

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Stat is what /proc/PID/stat says about a process.
type Stat struct {
	Comm  string
	State byte
	PPid  int
	// Start is the process's start time in clock ticks after boot: with
	// the pid it names one process for the life of the machine, where the
	// pid alone may be reused.
	Start uint64
}

// ErrNoProcess is returned by ReadStat for a process that does not exist.
var ErrNoProcess = errors.New("no such process")

// ReadStat reads /proc/PID/stat.
func ReadStat(pid int) (Stat, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ESRCH) {
			return Stat{}, ErrNoProcess
		}
		return Stat{}, err
	}
	return ParseStat(data)
}

// ParseStat parses the contents of /proc/PID/stat:
// "pid (comm) state ppid ... starttime ..."; comm may hold spaces and
// parentheses, so the fields are counted from the last ')'.
func ParseStat(data []byte) (Stat, error) {
	open, end := bytes.IndexByte(data, '('), bytes.LastIndexByte(data, ')')
	if open < 0 || end < open {
		return Stat{}, fmt.Errorf("parse /proc stat %q: no (comm)", data)
	}
	f := strings.Fields(string(data[end+1:]))
	// f[0] is field 3 (state), so field N is f[N-3]; starttime is 22.
	if len(f) < 20 || len(f[0]) != 1 {
		return Stat{}, fmt.Errorf("parse /proc stat: %d fields after comm", len(f))
	}
	ppid, err1 := strconv.Atoi(f[1])
	start, err2 := strconv.ParseUint(f[19], 10, 64)
	if err1 != nil || err2 != nil {
		return Stat{}, fmt.Errorf("parse /proc stat: bad ppid %q or starttime %q", f[1], f[19])
	}
	return Stat{Comm: string(data[open+1 : end]), State: f[0][0], PPid: ppid, Start: start}, nil
}

// Alive reports whether the process is running (not a zombie waiting to be
// reaped, not dead).
func (p Stat) Alive() bool { return p.State != 'Z' && p.State != 'X' && p.State != 'x' }

// SameProcess reports whether pid still names the running process that
// started at start.
func SameProcess(pid int, start uint64) bool {
	p, err := ReadStat(pid)
	return err == nil && p.Start == start && p.Alive()
}

// ID names one process for the life of the machine: its pid, its start
// time (field 22 of /proc/PID/stat) and the inode of its pid namespace,
// the one the pid means something in.
type ID struct {
	Pid   int
	Start uint64
	PidNS uint64
}

// Self returns this process's ID.
func Self() (ID, error) {
	p, err := ReadStat(os.Getpid())
	if err != nil {
		return ID{}, fmt.Errorf("read own start time: %w", err)
	}
	ns, err := PidNamespace("self")
	if err != nil {
		return ID{}, err
	}
	return ID{Pid: os.Getpid(), Start: p.Start, PidNS: ns}, nil
}

// PidNamespace returns the inode of the pid namespace of /proc/WHO.
func PidNamespace(who string) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat("/proc/"+who+"/ns/pid", &st); err != nil {
		return 0, fmt.Errorf("pid namespace of %s: %w", who, err)
	}
	return st.Ino, nil
}

// ParseCgroups parses data, the contents of /proc/PID/cgroup
// ("hierarchy-ID:controllers:path" lines). v2 is the path of the cgroup v2
// line ("0::PATH": id 0, no controllers), relative to the cgroup
// namespace's root; ok is false when the process is in no cgroup v2. all
// holds the path of every hierarchy, v1 and v2, in order.
func ParseCgroups(data []byte) (v2 string, ok bool, all []string) {
	for _, line := range strings.Split(string(data), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[0] == "0" && parts[1] == "" && !ok {
			v2, ok = parts[2], true
		}
		all = append(all, parts[2])
	}
	return v2, ok, all
}

// ReadCgroups reads /proc/PID/cgroup (see ParseCgroups).
func ReadCgroups(pid int) (v2 string, ok bool, all []string, err error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		return "", false, nil, err
	}
	v2, ok, all = ParseCgroups(data)
	return v2, ok, all, nil
}

// CgroupV2 returns the cgroup v2 path of process pid, as /proc/PID/cgroup
// gives it (relative to the cgroup namespace's root), or "".
func CgroupV2(pid int) string {
	v2, _, _, _ := ReadCgroups(pid)
	return v2
}

// Children returns the children of process pid, from every thread's
// /proc/PID/task/TID/children.
func Children(pid int) []int {
	tasks, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	if err != nil {
		return nil
	}
	var out []int
	for _, task := range tasks {
		data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "task", task.Name(), "children"))
		if err != nil {
			continue
		}
		out = append(out, ParsePids(data)...)
	}
	return out
}

// ParsePids parses a list of pids separated by white space, as
// /proc/PID/task/TID/children and cgroup.procs hold; what is not a number
// is skipped.
func ParsePids(data []byte) []int {
	var pids []int
	for _, f := range strings.Fields(string(data)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Descendants returns the processes descended from root, read from /proc.
func Descendants(root int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscanf(e.Name(), "%d", &pid); err != nil {
			continue
		}
		p, err := ReadStat(pid)
		if err != nil {
			continue
		}
		children[p.PPid] = append(children[p.PPid], pid)
	}
	var out []int
	queue := []int{root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}
