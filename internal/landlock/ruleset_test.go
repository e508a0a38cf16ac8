package landlock

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// helperEnv makes the test binary a child that restricts itself and
// tries accesses (TestMain).
const helperEnv = "PROFGEN_LANDLOCK_TEST_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(helperEnv); dir != "" {
		os.Exit(helper(dir))
	}
	os.Exit(m.Run())
}

// helper restricts itself to reading dir/allowed and binding port 0 ...
// and prints what each access gave.
func helper(dir string) int {
	runtime.LockOSThread()
	r := &Ruleset{
		HandledFS:  All(Rights, 7),
		HandledNet: All(NetRights, 7),
		Scoped:     All(Scopes, 7),
		Paths: []PathRule{
			{filepath.Join(dir, "allowed"), unix.LANDLOCK_ACCESS_FS_READ_FILE | unix.LANDLOCK_ACCESS_FS_READ_DIR},
			{filepath.Join(dir, "file"), unix.LANDLOCK_ACCESS_FS_READ_FILE | unix.LANDLOCK_ACCESS_FS_READ_DIR},
			{filepath.Join(dir, "missing"), unix.LANDLOCK_ACCESS_FS_READ_FILE},
		},
		Warn: func(s string) { fmt.Println("warn:", s) },
	}
	if err := r.Apply(); err != nil {
		fmt.Println("apply:", err)
		return 1
	}
	for _, p := range []string{"allowed/a", "file", "denied/b"} {
		_, err := os.ReadFile(filepath.Join(dir, p))
		fmt.Printf("read %s: %v\n", p, errors.Is(err, unix.EACCES))
	}
	err := os.WriteFile(filepath.Join(dir, "allowed/new"), nil, 0o600)
	fmt.Printf("create allowed/new: %v\n", errors.Is(err, unix.EACCES))
	// A fixed port: Landlock does not restrict binding port 0 (an
	// ephemeral port). Landlock's check comes before EADDRINUSE's. Plain
	// TCP: Go listens with MPTCP by default, which Landlock (Linux 6.18)
	// does not govern.
	var lc net.ListenConfig
	lc.SetMultipathTCP(false)
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:39871")
	if err == nil {
		ln.Close()
	}
	fmt.Printf("bind: %v\n", errors.Is(err, unix.EACCES))
	return 0
}

func TestApply(t *testing.T) {
	if ABI() < 6 {
		t.Fatalf("this machine's kernel has Landlock ABI 7; got %d", ABI())
	}
	dir := t.TempDir()
	for _, d := range []string{"allowed", "denied"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"allowed/a", "denied/b", "file"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	want := strings.Join([]string{
		"warn: landlock: rule for " + dir + "/missing left out: no such file or directory",
		"read allowed/a: false", "read file: false", "read denied/b: true",
		"create allowed/new: true", "bind: true", ""}, "\n")
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

func TestDowngrade(t *testing.T) {
	r := Ruleset{
		HandledFS: All(Rights, 7), HandledNet: All(NetRights, 7), Scoped: All(Scopes, 7), Log: true,
		Paths: []PathRule{{"/srv", unix.LANDLOCK_ACCESS_FS_READ_FILE | unix.LANDLOCK_ACCESS_FS_IOCTL_DEV}, {"/dev/null", unix.LANDLOCK_ACCESS_FS_IOCTL_DEV}},
		Ports: []PortRule{{80, unix.LANDLOCK_ACCESS_NET_BIND_TCP}},
	}
	got, notes := r.Downgrade(3)
	if got.HandledNet != 0 || got.Scoped != 0 || got.HandledFS != All(Rights, 3) || len(got.Ports) != 0 || got.Log {
		t.Errorf("downgrade to 3: %+v", got)
	}
	if len(got.Paths) != 1 || got.Paths[0].Access != unix.LANDLOCK_ACCESS_FS_READ_FILE {
		t.Errorf("paths: %+v", got.Paths)
	}
	want := []string{
		"Landlock filesystem right ioctl_dev not enforced: this kernel has Landlock ABI 3, Linux 6.10 (Landlock ABI 5) has it",
		"Landlock TCP right bind_tcp, connect_tcp not enforced: this kernel has Landlock ABI 3, Linux 6.7 (Landlock ABI 4) has it",
		"Landlock scope abstract_unix_socket, signal not enforced: this kernel has Landlock ABI 3, Linux 6.12 (Landlock ABI 6) has it",
		"Landlock denials are not logged: this kernel has Landlock ABI 3, Linux 6.15 (Landlock ABI 7) logs them to audit",
	}
	if strings.Join(notes, "\n") != strings.Join(want, "\n") {
		t.Errorf("notes:\n%s\nwant\n%s", strings.Join(notes, "\n"), strings.Join(want, "\n"))
	}
	none, notes := r.Downgrade(0)
	if none.HandledFS != 0 || len(none.Paths) != 0 || len(notes) != 1 || !strings.Contains(notes[0], "no Landlock (Linux 5.13") {
		t.Errorf("no landlock: %+v %q", none, notes)
	}
	same, notes := r.Downgrade(7)
	if len(notes) != 0 || same.HandledFS != r.HandledFS || len(same.Paths) != 2 || len(same.Ports) != 1 {
		t.Errorf("abi 7: %+v %q", same, notes)
	}
}
