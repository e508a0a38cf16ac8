package cgroup

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
)

// reaperScript is the reaper's program, run by /bin/sh with the cgroup's
// path as $1 and the read end of a pipe as standard input. profgen holds
// the write end. It writes "escape PID START" for each process that left
// the cgroup (see EscapeTracker) and "done" once it removed the cgroup
// itself. When profgen dies, however it dies (SIGKILL, the OOM killer),
// the kernel closes the write end, read sees end of file, and the reaper
// kills each escaped process that still has its start time (field 22 of
// /proc/PID/stat, after the last ") "), kills what is left in the cgroup
// and its descendants (cgroup.kill, Linux 5.14; SIGKILL to each process
// listed before that) and removes them, the deepest first. It ignores the
// signals a terminal or a kill of profgen's process group sends, and runs
// in a session of its own.
const reaperScript = `trap '' HUP INT QUIT TERM PIPE
cg=$1
escaped=
while read -r what pid start; do
	case $what in
	done) exit 0 ;;
	escape) escaped="$escaped $pid:$start" ;;
	esac
done
for e in $escaped; do
	pid=${e%%:*}
	stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
	set -- ${stat##*) }
	[ "${20}" = "${e#*:}" ] && kill -9 "$pid" 2>/dev/null
done
i=0
while [ -d "$cg" ] && [ $i -lt 100 ]; do
	if ! echo 1 2>/dev/null >"$cg/cgroup.kill"; then
		for p in $(cat $(find "$cg" -name cgroup.procs) 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	fi
	find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
	[ -d "$cg" ] && sleep 0.1
	i=$((i+1))
done
`

// reaper is a small process of profgen's own that kills and removes a
// cgroup if profgen dies without doing it (see reaperScript).
type reaper struct {
	cmd *exec.Cmd
	mu  sync.Mutex
	w   io.WriteCloser
}

// startReaper starts the reaper of the cgroup at path.
func startReaper(path string) (*reaper, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("reaper pipe: %w", err)
	}
	defer r.Close()
	cmd := exec.Command("/bin/sh", "-c", reaperScript, "profgen-reaper", path)
	cmd.Stdin = r
	// Its own session: no terminal signal, no kill of profgen's process
	// group reaches it. No Pdeathsig: it must outlive profgen.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, fmt.Errorf("start cgroup reaper: %w", err)
	}
	return &reaper{cmd: cmd, w: w}, nil
}

// escaped tells the reaper to kill process pid, which started at start,
// should profgen die.
func (r *reaper) escaped(pid int, start uint64) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.w != nil {
		fmt.Fprintf(r.w, "escape %d %d\n", pid, start)
	}
}

// release tells the reaper that profgen removed the cgroup itself, and
// waits for it to exit.
func (r *reaper) release() {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.w == nil {
		return
	}
	io.WriteString(r.w, "done\n")
	r.w.Close()
	r.w = nil
	r.cmd.Wait()
}
