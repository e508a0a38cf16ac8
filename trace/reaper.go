package trace

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
)

// reaperScript is the reaper's program, run by /bin/sh with the cgroup's
// path as $1 and the read end of a pipe as standard input. profgen holds
// the write end: it writes "done" once it removed the cgroup itself; when
// profgen dies, however it dies (SIGKILL, the OOM killer), the kernel
// closes the write end, read sees end of file, and the reaper kills what
// is left in the cgroup and its descendants (cgroup.kill, Linux 5.14;
// SIGKILL to each process listed before that) and removes them, the
// deepest first. It ignores the signals a terminal or a kill of profgen's
// process group sends, and runs in a session of its own.
const reaperScript = `trap '' HUP INT QUIT TERM PIPE
read -r line
[ "$line" = done ] && exit 0
i=0
while [ -d "$1" ] && [ $i -lt 100 ]; do
	if ! echo 1 2>/dev/null >"$1/cgroup.kill"; then
		for p in $(cat $(find "$1" -name cgroup.procs) 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	fi
	find "$1" -depth -type d -exec rmdir {} + 2>/dev/null
	[ -d "$1" ] && sleep 0.1
	i=$((i+1))
done
`

// reaper is a small process of profgen's own that kills and removes a
// cgroup if profgen dies without doing it (see reaperScript).
type reaper struct {
	cmd *exec.Cmd
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

// release tells the reaper that profgen removed the cgroup itself, and
// waits for it to exit.
func (r *reaper) release() {
	if r == nil || r.w == nil {
		return
	}
	io.WriteString(r.w, "done\n")
	r.w.Close()
	r.w = nil
	r.cmd.Wait()
}
