package trace

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// procInfo is what /proc/PID/stat says about a process.
type procInfo struct {
	Comm  string
	State byte
	PPid  int
	// Start is the process's start time in clock ticks after boot: with
	// the pid it names one process for the life of the machine, where the
	// pid alone may be reused.
	Start uint64
}

// errNoProcess is returned by readProc for a process that does not exist.
var errNoProcess = errors.New("no such process")

// readProc reads /proc/PID/stat.
func readProc(pid int) (procInfo, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ESRCH) {
			return procInfo{}, errNoProcess
		}
		return procInfo{}, err
	}
	return parseProcStat(data)
}

// parseProcStat parses the contents of /proc/PID/stat:
// "pid (comm) state ppid ... starttime ..."; comm may hold spaces and
// parentheses, so the fields are counted from the last ')'.
func parseProcStat(data []byte) (procInfo, error) {
	open, end := bytes.IndexByte(data, '('), bytes.LastIndexByte(data, ')')
	if open < 0 || end < open {
		return procInfo{}, fmt.Errorf("parse /proc stat %q: no (comm)", data)
	}
	f := strings.Fields(string(data[end+1:]))
	// f[0] is field 3 (state), so field N is f[N-3]; starttime is 22.
	if len(f) < 20 || len(f[0]) != 1 {
		return procInfo{}, fmt.Errorf("parse /proc stat: %d fields after comm", len(f))
	}
	ppid, err1 := strconv.Atoi(f[1])
	start, err2 := strconv.ParseUint(f[19], 10, 64)
	if err1 != nil || err2 != nil {
		return procInfo{}, fmt.Errorf("parse /proc stat: bad ppid %q or starttime %q", f[1], f[19])
	}
	return procInfo{Comm: string(data[open+1 : end]), State: f[0][0], PPid: ppid, Start: start}, nil
}

// alive reports whether the process is running (not a zombie waiting to be
// reaped, not dead).
func (p procInfo) alive() bool { return p.State != 'Z' && p.State != 'X' && p.State != 'x' }

// sameProcess reports whether pid still names the running process that
// started at start.
func sameProcess(pid int, start uint64) bool {
	p, err := readProc(pid)
	return err == nil && p.Start == start && p.alive()
}

// cgroupV2Path returns the cgroup v2 path in data, the contents of
// /proc/PID/cgroup: the "0::PATH" line (id 0, no controllers), PATH
// relative to the cgroup namespace's root. ok is false when the process is
// in no cgroup v2.
func cgroupV2Path(data []byte) (path string, ok bool) {
	for _, line := range strings.Split(string(data), "\n") {
		if p, found := strings.CutPrefix(line, "0::"); found {
			return p, true
		}
	}
	return "", false
}
