package fileio

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func write(t *testing.T, path, text string) error {
	t.Helper()
	return Write(path, io.Discard, func(w io.Writer) error {
		_, err := io.WriteString(w, text)
		return err
	})
}

func content(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// noTemps fails when a temporary file is left in dir.
func noTemps(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), tempInfix) {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

// TestUmaskAndMode: a new file gets 0666 less the umask (077: 0600), an
// existing file keeps its mode.
func TestUmaskAndMode(t *testing.T) {
	dir := t.TempDir()
	old := unix.Umask(0o077)
	defer unix.Umask(old)
	path := filepath.Join(dir, "new.json")
	if err := write(t, path, "one"); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("new file under umask 077: mode %v, want 0600", st.Mode().Perm())
	}
	unix.Umask(0o022)
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := write(t, path, "two"); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o640 || content(t, path) != "two" {
		t.Errorf("existing 0640 file: mode %v, content %q", st.Mode().Perm(), content(t, path))
	}
	other := filepath.Join(dir, "other.json")
	if err := write(t, other, "x"); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(other); st.Mode().Perm() != 0o644 {
		t.Errorf("new file under umask 022: mode %v", st.Mode().Perm())
	}
	noTemps(t, dir)
}

// TestFailedFill: a failing writer leaves the old file and no temporary
// file.
func TestFailedFill(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.json")
	if err := write(t, path, "old"); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := Write(path, io.Discard, func(w io.Writer) error {
		io.WriteString(w, "half")
		return boom
	})
	if !errors.Is(err, boom) || content(t, path) != "old" {
		t.Errorf("err %v, content %q", err, content(t, path))
	}
	noTemps(t, dir)
}

// TestSymlink: a link is written through, and stays a link; a dangling
// link creates its target.
func TestSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target.json")
	if err := os.WriteFile(target, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink("target.json", link); err != nil {
		t.Fatal(err)
	}
	if err := write(t, link, "new"); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v %v", st.Mode(), err)
	}
	if st, _ := os.Stat(target); content(t, target) != "new" || st.Mode().Perm() != 0o600 {
		t.Errorf("target: %q mode %v", content(t, target), st.Mode().Perm())
	}
	dangling := filepath.Join(dir, "dangling.json")
	if err := os.Symlink(filepath.Join(dir, "sub", "made.json"), dangling); err != nil {
		t.Fatal(err)
	}
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	if err := write(t, dangling, "made"); err != nil {
		t.Fatal(err)
	}
	if got := content(t, filepath.Join(dir, "sub", "made.json")); got != "made" {
		t.Errorf("dangling link's target: %q", got)
	}
	noTemps(t, dir)
	noTemps(t, filepath.Join(dir, "sub"))
}

// TestDirectoryAndSpecial: a directory is named as such; a FIFO is written
// into and stays a FIFO.
func TestDirectoryAndSpecial(t *testing.T) {
	dir := t.TempDir()
	err := write(t, dir, "x")
	if err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: %v", err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() {
		b, _ := os.ReadFile(fifo)
		got <- string(b)
	}()
	if err := write(t, fifo, "through the pipe"); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "through the pipe" {
		t.Errorf("FIFO read %q", s)
	}
	if st, _ := os.Lstat(fifo); st.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("FIFO replaced: %v", st.Mode())
	}
	var buf bytes.Buffer
	if err := Write(Stdout, &buf, func(w io.Writer) error { _, err := io.WriteString(w, "out"); return err }); err != nil || buf.String() != "out" {
		t.Errorf("-: %q %v", buf.String(), err)
	}
	if err := write(t, "", "x"); err == nil {
		t.Error("empty path accepted")
	}
	noTemps(t, dir)
}

// TestProcLinks: /proc/self/fd/N (what /dev/stdout and /dev/fd/N lead to)
// is written into, a pipe as a pipe and a regular file in place (the open
// file gets the bytes, nothing is renamed over it).
func TestProcLinks(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	got := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(pr)
		got <- string(b)
	}()
	if err := write(t, "/proc/self/fd/"+strconv.Itoa(int(pw.Fd())), "into the pipe"); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if s := <-got; s != "into the pipe" {
		t.Errorf("pipe got %q", s)
	}
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "open.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	before, _ := f.Stat()
	if err := write(t, "/proc/self/fd/"+strconv.Itoa(int(f.Fd())), "in place"); err != nil {
		t.Fatal(err)
	}
	after, err := os.Stat(f.Name())
	if err != nil || !os.SameFile(before, after) || content(t, f.Name()) != "in place" {
		t.Errorf("the open file was replaced or not written: %v, %q", err, content(t, f.Name()))
	}
	noTemps(t, dir)
}

// TestTemps: the temporary file is named .NAME.profgen-tmp-PID-*; stale
// ones of dead processes are removed by the next Create, live ones are
// not; RemoveTemps removes this process's own.
func TestTemps(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.json")
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, ".out.json"+tempInfix+strconv.Itoa(dead.Process.Pid)+"-abc")
	live := filepath.Join(dir, ".out.json"+tempInfix+"1-abc") // pid 1 lives
	for _, p := range []string{stale, live} {
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out, err := Create(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(dir, ".out.json"+tempInfix+strconv.Itoa(os.Getpid())+"-")
	if !strings.HasPrefix(out.TempName(), want) {
		t.Errorf("temporary file %s, want prefix %s", out.TempName(), want)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale temporary file of dead pid %d kept: %v", dead.Process.Pid, err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("temporary file of a live process removed: %v", err)
	}
	RemoveTemps()
	if _, err := os.Stat(out.TempName()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("RemoveTemps left %s: %v", out.TempName(), err)
	}
	if err := out.Commit(); err == nil {
		t.Error("commit of a removed temporary file succeeded")
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("target written after RemoveTemps: %v", err)
	}
}

// TestReadFile: regular files and "-" are read; a FIFO, a character
// device and a directory are refused at once; the size limit holds; no
// error quotes the content.
func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "in.json")
	if err := os.WriteFile(path, []byte("secret-content"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadFile(path, 0, nil); err != nil || string(b) != "secret-content" {
		t.Errorf("regular file: %q %v", b, err)
	}
	if b, err := ReadFile(Stdin, 0, strings.NewReader("from stdin")); err != nil || string(b) != "from stdin" {
		t.Errorf("-: %q %v", b, err)
	}
	if _, err := ReadFile(path, 5, nil); !errors.Is(err, ErrTooLarge) || strings.Contains(err.Error(), "secret") {
		t.Errorf("over the limit: %v", err)
	}
	if _, err := ReadFile(Stdin, 5, strings.NewReader("secret-content")); !errors.Is(err, ErrTooLarge) {
		t.Errorf("stdin over the limit: %v", err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, want string }{
		{fifo, "FIFO"},
		{"/dev/zero", "character device"},
		{dir, "directory"},
	} {
		done := make(chan error, 1)
		go func() {
			_, err := ReadFile(c.path, 0, nil)
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.path) {
				t.Errorf("%s: %v, want an error naming it a %s", c.path, err, c.want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: ReadFile blocked", c.path)
		}
	}
}

// TestKernelFiles: a file of /proc, /sys or a cgroup file system, or a new
// file in one of their directories, is refused at Create, before anything
// is written, with one error that names the path and the file system;
// the links into /proc that lead to open files are not (TestProcLinks).
func TestKernelFiles(t *testing.T) {
	for path, fs := range map[string]string{
		"/proc/version":             "proc",
		"/proc/sys/kernel/hostname": "proc",
		"/proc/profgen-new":         "proc",
		"/sys/kernel/profiling":     "sysfs",
	} {
		before, _ := os.ReadFile(path)
		out, err := Create(path, nil)
		if err == nil {
			out.Abort()
			t.Errorf("%s: accepted", path)
			continue
		}
		want := "output " + path + " is in the kernel's " + fs + " file system"
		if !strings.Contains(err.Error(), want) || strings.Count(err.Error(), path) != 1 {
			t.Errorf("%s: error %q, want one mention of the path and %q", path, err, want)
		}
		if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
			t.Errorf("%s changed", path)
		}
	}
}

// TestWriteErrorOnce: a write that fails at Commit (/dev/full: ENOSPC)
// names the path once: "write /dev/full: no space left on device".
func TestWriteErrorOnce(t *testing.T) {
	err := write(t, "/dev/full", "x")
	if err == nil {
		t.Fatal("writing /dev/full succeeded")
	}
	if want := "write /dev/full: no space left on device"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

// TestOneWriter: while one File writes a path, a second Create of the same
// path (through a link to it too) is refused, naming the writer; after a
// Commit or an Abort the path is free again, and other paths of the same
// directory are never locked.
func TestOneWriter(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rec.json")
	first, err := Create(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "output " + path + ": another profgen (pid " + strconv.Itoa(os.Getpid()) + ") is writing it"
	if _, err := Create(path, nil); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("second writer: %v, want %q", err, want)
	}
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink("rec.json", link); err != nil {
		t.Fatal(err)
	}
	if _, err := Create(link, nil); err == nil || !strings.Contains(err.Error(), "is writing it") {
		t.Errorf("second writer through a link: %v", err)
	}
	other, err := Create(filepath.Join(dir, "rec.json.bak"), nil)
	if err != nil {
		t.Errorf("another path of the directory: %v", err)
	} else {
		other.Abort()
	}
	io.WriteString(first, "first")
	if err := first.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := write(t, path, "second"); err != nil || content(t, path) != "second" {
		t.Errorf("after the first committed: %v, %q", err, content(t, path))
	}
	third, err := Create(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	third.Abort()
	if err := write(t, path, "fourth"); err != nil {
		t.Errorf("after an Abort: %v", err)
	}
	noTemps(t, dir)
}
