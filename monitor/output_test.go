package monitor

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestRotatingSpecialFiles: rotating renames the file, so NewRotating
// refuses a character device (made here, a null device of the test's own,
// never the machine's /dev/null) and a FIFO at once, and rotates the target
// of a symbolic link, which stays a link.
func TestRotatingSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	null := filepath.Join(dir, "null")
	if err := unix.Mknod(null, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		t.Fatalf("mknod (as root): %v", err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for path, kind := range map[string]string{null: "character device", fifo: "FIFO", dir: "directory"} {
		_, err := NewRotating(path, 1, 0, false)
		if err == nil || !strings.Contains(err.Error(), path+" is a "+kind) {
			t.Errorf("NewRotating(%s): %v, want it refused as a %s", path, err, kind)
		}
	}
	// A link into /proc, as /dev/stdout is.
	stdout := filepath.Join(dir, "stdout")
	if err := os.Symlink("/proc/self/fd/1", stdout); err != nil {
		t.Fatal(err)
	}
	if _, err := NewRotating(stdout, 1, 0, false); err == nil || !strings.Contains(err.Error(), "leads into /proc") {
		t.Errorf("NewRotating(a link to /proc/self/fd/1): %v, want it refused", err)
	}
	if st, err := os.Stat(null); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("the null device changed: %v %v", st.Mode(), err)
	}

	target := filepath.Join(dir, "target.json")
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink("target.json", link); err != nil {
		t.Fatal(err)
	}
	rot, err := NewRotating(link, 1, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	line := append(bytes.Repeat([]byte("x"), 1023), '\n')
	for range 1500 { // 1.5 MiB: one rotation
		if _, err := rot.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	if err := rot.Close(); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v %v", st.Mode(), err)
	}
	rotated, _ := filepath.Glob(filepath.Join(dir, "target-*.json"))
	st, err := os.Stat(target)
	if len(rotated) != 1 || err != nil || st.Size() == 0 {
		t.Errorf("rotated %v, target %v %v: want the target rotated once, beside it", rotated, st, err)
	}
}
