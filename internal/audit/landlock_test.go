package audit

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	ll "github.com/profgen/profgen/internal/landlock"
)

// landlockChildEnv makes the test binary restrict itself to reading /usr
// and the loader's cache, with denials logged after exec, and exec
// cat /etc/shadow.
const landlockChildEnv = "AUDIT_TEST_LANDLOCK_CHILD"

func landlockChild() {
	runtime.LockOSThread()
	r := &ll.Ruleset{
		HandledFS: unix.LANDLOCK_ACCESS_FS_READ_FILE | unix.LANDLOCK_ACCESS_FS_EXECUTE,
		Paths:     []ll.PathRule{{Path: "/usr", Access: unix.LANDLOCK_ACCESS_FS_READ_FILE | unix.LANDLOCK_ACCESS_FS_EXECUTE}, {Path: "/etc/ld.so.cache", Access: unix.LANDLOCK_ACCESS_FS_READ_FILE}},
		Log:       true,
	}
	if err := r.Apply(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	err := syscall.Exec("/usr/bin/cat", []string{"cat", "/etc/shadow"}, nil)
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

// TestParseLandlockAccess: the records as Linux 6.18 writes them
// (TestLandlockDenials triggers them for real).
func TestParseLandlockAccess(t *testing.T) {
	for _, c := range []struct {
		text           string
		blockers, path string
		port           int
	}{
		{`audit(1796440082.304:31496145): domain=1eba81c9d blockers=fs.read_file path="/etc/shadow" dev="vda" ino=1196044`, "fs.read_file", "/etc/shadow", 0},
		{`audit(1796440090.856:31496151): domain=1eba81ca1 blockers=net.bind_tcp saddr=127.0.0.1 src=39875`, "net.bind_tcp", "", 39875},
		{`audit(1796440090.860:31496152): domain=1eba81ca1 blockers=net.connect_tcp daddr=127.0.0.1 dest=22`, "net.connect_tcp", "", 22},
		{`audit(1796440090.860:31496154): domain=1eba81ca1 blockers=fs.make_reg path=2F746D702F6120622063 dev="vda" ino=9991089`, "fs.make_reg", "/tmp/a b c", 0},
	} {
		d, err := ParseLandlockAccess([]byte(c.text))
		if err != nil {
			t.Errorf("%s: %v", c.text, err)
			continue
		}
		if len(d.Blockers) != 1 || d.Blockers[0] != c.blockers || d.Path != c.path || d.Port != c.port || d.Serial == 0 {
			t.Errorf("%s: %+v", c.text, d)
		}
	}
	if _, err := ParseLandlockAccess([]byte(`audit(1.2:3): path="/x"`)); err == nil {
		t.Error("a record without domain and blockers parsed")
	}
}

// TestLandlockDenials: with audit enabled, a process restricted with
// LOG_NEW_EXEC_ON that reads /etc/shadow after its execve is named by the
// reader's OnLandlock: its pid, comm, path and right.
func TestLandlockDenials(t *testing.T) {
	restore, err := EnableForLandlock()
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := restore(); err != nil {
			t.Error(err)
		}
	}()
	var mu sync.Mutex
	var got []LandlockDenial
	r, err := Open(Options{OnLandlock: func(d LandlockDenial) {
		mu.Lock()
		got = append(got, d)
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	markers := NewMarkers()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			rec, err := r.Next()
			if err != nil {
				markers.Stop(err)
				return
			}
			markers.Take(rec)
		}
	}()
	defer func() { r.Close(); <-done }()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), landlockChildEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("cat /etc/shadow succeeded under the ruleset: %s", out)
	}
	m, err := EmitMarker()
	if err != nil {
		t.Fatal(err)
	}
	if err := markers.Wait(m, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, d := range got {
		if d.HasProcess && d.Process.Pid == cmd.Process.Pid && d.Path == "/etc/shadow" && d.Blockers[0] == "fs.read_file" && d.Process.Comm == "cat" && d.Process.Exe == "/usr/bin/cat" {
			return
		}
	}
	t.Errorf("no denial of cat's read of /etc/shadow (pid %d) among %+v", cmd.Process.Pid, got)
}

// TestEnableForLandlockShared: audit turned on by the first user stays on
// while another still needs it, and is restored by the last.
func TestEnableForLandlockShared(t *testing.T) {
	before, err := Enabled()
	if err != nil {
		t.Fatal(err)
	}
	r1, err := EnableForLandlock()
	if err != nil {
		t.Fatal(err)
	}
	r2, err := EnableForLandlock()
	if err != nil {
		t.Fatal(err)
	}
	if err := r1(); err != nil {
		t.Fatal(err)
	}
	if on, _ := Enabled(); on == 0 {
		t.Fatal("audit turned off while another user needs it")
	}
	if err := r2(); err != nil {
		t.Fatal(err)
	}
	after, err := Enabled()
	if err != nil {
		t.Fatal(err)
	}
	if before == 0 && after != 0 {
		// Another process of the machine may hold the lock: only then
		// is audit left on.
		f, err := os.OpenFile(auditLockPath, os.O_RDWR, 0)
		if err == nil {
			busy := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil
			f.Close()
			if !busy {
				t.Errorf("audit left on (was off) with no user left")
			}
		}
	}
}
