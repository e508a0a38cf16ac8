package trace

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/profgen/profgen/internal/cgroup"
	"github.com/profgen/profgen/internal/workload"
)

// TestAttachArmsOnExec records a cgroup profgen did not start the process
// of: a shell already in it (standing for a container's init waiting in
// runc init) is attached to, then execs manycalls. Nothing the shell did
// before the exec is counted; from the exec on everything is, as Record
// sees it for manycalls alone; the cgroup is left alone and nothing of the
// backend stays loaded after Finish.
func TestAttachArmsOnExec(t *testing.T) {
	bin := workload.Build(t, "manycalls")
	// The shell waits on the fifo like runc init on its exec fifo, then
	// forks (a subshell: clone, wait4) and execs the workload.
	cg, fifo, sh := fifoShell(t, `read x < "$1"; (true); exec "$2" 300`, bin)

	path, err := cgroup.Of(sh.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if path != cg.Path {
		t.Fatalf("cgroup.Of(%d) = %s, want %s", sh.Process.Pid, path, cg.Path)
	}
	e := newTestEBPF(t, EBPFOptions{})
	ids := append(programIDs(t, e), progID(t, e.objs.ProfgenExec))
	a, err := Attach(AttachOptions{Cgroup: path, Backend: e, Command: []string{bin, "300"}, Tool: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fifo, []byte("go\n"), 0); err != nil {
		t.Fatal(err)
	}
	if err := sh.Wait(); err != nil {
		t.Fatalf("workload: %v", err)
	}
	if a.Populated() {
		t.Error("the cgroup is populated after its only process exited")
	}
	rec, _, err := a.Finish(false)
	if err != nil {
		t.Fatal(err)
	}
	// The backend stays open until its creator closes it.
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	assertUnloaded(t, ids)
	if _, err := os.Stat(cg.Path); err != nil {
		t.Errorf("Finish touched the cgroup: %v", err)
	}
	if s := rec.Lookup("getppid"); s == nil || s.Count != 300 {
		t.Errorf("getppid %+v, want count 300", s)
	}
	for _, n := range []string{"wait4", "clone", "clone3"} {
		if rec.Lookup(n) != nil {
			t.Errorf("the shell's %s before the exec was counted: %v", n, rec.Names())
		}
	}
	if s := rec.Lookup("execve"); s == nil || s.Count != 1 {
		t.Errorf("execve %+v, want the one exec counted", s)
	}

	// Record of the workload alone sees the same calls.
	res, err := Record(t.Context(), Options{Command: []string{bin, "300"}, Backend: newTestEBPF(t, EBPFOptions{})})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rec.Names(), res.Recording.Names(); !slices.Equal(got, want) {
		t.Errorf("attached: %v\nrecorded: %v", got, want)
	}
}

// progID returns the kernel id of p.
func progID(t *testing.T, p *ebpf.Program) ebpf.ProgramID {
	t.Helper()
	info, err := p.Info()
	if err != nil {
		t.Fatal(err)
	}
	id, ok := info.ID()
	if !ok {
		t.Fatal("program info has no id")
	}
	return id
}

// TestAttachBadCgroup: a directory that is no cgroup v2 is refused.
func TestAttachBadCgroup(t *testing.T) {
	e := newTestEBPF(t, EBPFOptions{})
	_, err := Attach(AttachOptions{Cgroup: t.TempDir(), Backend: e})
	if !errors.Is(err, ErrNotSupported) {
		t.Errorf("Attach on a plain directory: %v, want ErrNotSupported", err)
	}
	if _, err := cgroup.Of(1 << 30); err == nil {
		t.Error("CgroupOf a pid that does not exist succeeded")
	}
}

// threadedInit stands for runc init: a thread calls getcpu without pause
// while the main thread waits on a fifo and then execs argv[2].
const threadedInit = `
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>
static void *spin(void *a) { for (;;) syscall(SYS_getcpu, 0, 0, 0); return a; }
int main(int argc, char **argv) {
	pthread_t t;
	char c;
	if (argc < 3 || pthread_create(&t, 0, spin, 0)) return 2;
	int fd = open(argv[1], O_RDONLY);
	if (fd < 0 || read(fd, &c, 1) != 1) return 3;
	execv(argv[2], argv + 2);
	return 4;
}
`

// TestAttachThreadedInit: the calls another thread of the exec'ing process
// makes until the exec has killed it (runc init's Go runtime threads) are
// not counted; the exec'd program's are.
func TestAttachThreadedInit(t *testing.T) {
	initBin := buildC(t, "threadedinit", threadedInit)
	bin := workload.Build(t, "manycalls")
	cg, err := cgroup.New()
	if err != nil {
		t.Fatal(err)
	}
	defer cg.Close()
	fifo := filepath.Join(t.TempDir(), "go")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(initBin, fifo, bin, "50")
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: cg.FD()}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	a, err := Attach(AttachOptions{Cgroup: cg.Path, Backend: newTestEBPF(t, EBPFOptions{}), Command: []string{bin, "50"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fifo, []byte("x"), 0); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("workload: %v", err)
	}
	rec, _, err := a.Finish(false)
	if err != nil {
		t.Fatal(err)
	}
	if s := rec.Lookup("getcpu"); s != nil {
		t.Errorf("the spinning thread's getcpu was counted %d times", s.Count)
	}
	if s := rec.Lookup("getppid"); s == nil || s.Count != 50 {
		t.Errorf("getppid %+v, want count 50", s)
	}
}

// TestAttachSubCgroup: a process of an attached cgroup that moves into a
// sub-cgroup of its own (systemd in a container does) is still recorded,
// and the cgroup counts as populated until the sub-cgroup empties too.
func TestAttachSubCgroup(t *testing.T) {
	bin := workload.Build(t, "manycalls")
	// $0 is the cgroup's path.
	cg, fifo, sh := fifoShell(t, `read x < "$1"; mkdir "$0/sub" && echo $$ > "$0/sub/cgroup.procs" && exec "$2" 300`, bin)
	e := newTestEBPF(t, EBPFOptions{})
	a, err := Attach(AttachOptions{Cgroup: cg.Path, Backend: e, Command: []string{bin, "300"}, Tool: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fifo, []byte("go\n"), 0); err != nil {
		t.Fatal(err)
	}
	if err := sh.Wait(); err != nil {
		t.Fatalf("workload: %v", err)
	}
	if !a.WaitEmpty(make(chan os.Signal)) {
		t.Fatal("WaitEmpty stopped")
	}
	rec, _, err := a.Finish(false)
	if err != nil {
		t.Fatal(err)
	}
	if s := rec.Lookup("getppid"); s == nil || s.Count != 300 {
		t.Errorf("getppid %+v, want count 300 from the sub-cgroup", s)
	}
}

// fifoShell starts /bin/sh -c script in a new cgroup, with $0 the cgroup's
// path, $1 a fifo it may wait on (write to it to go on) and $2... args.
func fifoShell(t *testing.T, script string, args ...string) (*Cgroup, string, *exec.Cmd) {
	t.Helper()
	cg, err := cgroup.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cg.Close() })
	fifo := filepath.Join(t.TempDir(), "go")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	sh := exec.Command("/bin/sh", append([]string{"-c", script, cg.Path, fifo}, args...)...)
	sh.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: cg.FD()}
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sh.Process.Kill()
		sh.Wait()
	})
	return cg, fifo, sh
}
