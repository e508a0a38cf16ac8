package trace

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/profgen/profgen/internal/cgroup"
)

// TestCgroupWatchEvents: the watch receives when the cgroup's last process
// ends, with no read of cgroup.events in between, and WaitEmpty returns
// true once the cgroup is empty, false at once on stop.
func TestCgroupWatchEvents(t *testing.T) {
	cg, err := cgroup.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cg.Close() })
	cmd := exec.Command("sleep", "100")
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: cg.FD()}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w, err := cg.WatchEvents()
	if err != nil {
		t.Fatalf("WatchEvents: %v", err)
	}
	defer w.Close()
	// The kernel delays a cgroup file's notification by up to 10 ms after
	// the previous one (cgroup_file_notify): the change of sleep's start
	// may still arrive after the watch began. Let it, then expect none.
	time.Sleep(50 * time.Millisecond)
	select {
	case <-w.C():
	default:
	}
	select {
	case <-w.C():
		t.Fatal("a change before any")
	case <-time.After(50 * time.Millisecond):
	}
	a := &Attached{cg: cg}
	stop := make(chan os.Signal, 1)
	stop <- syscall.SIGTERM
	if a.WaitEmpty(stop) {
		t.Fatal("WaitEmpty on a populated cgroup returned true when stopped")
	}
	cmd.Process.Kill()
	cmd.Wait()
	select {
	case <-w.C():
	case <-time.After(10 * time.Second):
		t.Fatal("no change of cgroup.events 10 s after its last process ended")
	}
	if p, err := cg.Populated(); err != nil || p {
		t.Fatalf("populated %v, %v after the change", p, err)
	}
	if !a.WaitEmpty(make(chan os.Signal)) {
		t.Fatal("WaitEmpty on an empty cgroup returned false")
	}
}
