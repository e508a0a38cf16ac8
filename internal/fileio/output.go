package fileio

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// tempInfix is what every temporary file's name holds after ".NAME":
// ".NAME.profgen-tmp-PID-RANDOM".
const tempInfix = ".profgen-tmp-"

// Stdout is what "-" names as an output: standard output.
const Stdout = "-"

// File is an output being written. Its bytes reach the path only at
// Commit; Abort (or a failed Commit) leaves what was at the path as it was.
type File struct {
	path   string // as given
	target string // the path that is replaced, or written into
	w      *bufio.Writer
	f      *os.File // nil for standard output
	tmp    string   // temporary file, "" when writing straight into target
	done   bool
}

var (
	tempsMu sync.Mutex
	temps   = map[string]bool{} // this process's temporary files
)

// Create opens path for writing, as the package documentation describes;
// stdout is what "-" writes to. The temporary file is created at once, so
// an unwritable directory or read-only file system fails here. A nil
// stdout is os.Stdout.
func Create(path string, stdout io.Writer) (*File, error) {
	if path == "" {
		return nil, errors.New("empty output path")
	}
	if path == Stdout {
		if stdout == nil {
			stdout = os.Stdout
		}
		return &File{path: path, target: "standard output", w: bufio.NewWriter(stdout)}, nil
	}
	target, direct, err := resolve(path)
	if err != nil {
		return nil, fmt.Errorf("output %s: %w", path, err)
	}
	out := &File{path: path, target: target}
	st, err := os.Stat(target)
	if fs := kernelFS(target, err == nil); fs != "" {
		return nil, fmt.Errorf("output %s is in the kernel's %s file system, not a file profgen writes", path, fs)
	}
	switch {
	case err == nil && direct && st.Mode().IsRegular():
		// A /proc link to a regular file (/dev/stdout redirected to a
		// file): write into that open file, as a shell would.
		out.f, err = os.OpenFile(target, os.O_WRONLY|os.O_TRUNC, 0)
	case err == nil && st.IsDir():
		return nil, fmt.Errorf("output %s is a directory", path)
	case err == nil && st.Mode()&(fs.ModeCharDevice|fs.ModeNamedPipe) != 0:
		out.f, err = os.OpenFile(target, os.O_WRONLY, 0)
	case err == nil && !st.Mode().IsRegular():
		return nil, fmt.Errorf("output %s is a %s, not a file profgen writes", path, Kind(st.Mode()))
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("output %s: %w", path, err)
	default:
		err = out.createTemp(st)
	}
	if err != nil {
		return nil, fmt.Errorf("output %s: %w", path, err)
	}
	out.w = bufio.NewWriterSize(out.f, 64<<10)
	return out, nil
}

// createTemp creates the temporary file beside target; st is the
// existing target's information, or nil.
func (out *File) createTemp(st fs.FileInfo) error {
	dir, base := filepath.Split(out.target)
	if dir == "" {
		dir = "."
	}
	removeStale(dir, base)
	prefix := "." + base + tempInfix + strconv.Itoa(os.Getpid()) + "-"
	var f *os.File
	var err error
	for range 100 {
		name := filepath.Join(dir, prefix+strconv.FormatUint(uint64(rand.Uint32()), 36))
		// 0666 less the umask, the mode a new file of any tool gets.
		f, err = os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL|unix.O_CLOEXEC, 0o666)
		if !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			// Name the directory, not the temporary file.
			return fmt.Errorf("create a file in %s: %w", dir, pe.Err)
		}
		return err
	}
	tempsMu.Lock()
	temps[f.Name()] = true
	tempsMu.Unlock()
	out.f, out.tmp = f, f.Name()
	// The lock on the temporary file says "being written" for as long
	// as this File is open; it is taken before the others are looked at,
	// so of two that start together at least one sees the other.
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		out.Abort()
		return fmt.Errorf("lock %s: %w", f.Name(), err)
	}
	if pid, ok := otherWriter(dir, base, f.Name()); ok {
		out.Abort()
		return fmt.Errorf("another profgen (pid %d) is writing it: wait until it is done, or write elsewhere", pid)
	}
	if st != nil {
		// An existing file keeps its owner and mode.
		if sys, ok := st.Sys().(*unix.Stat_t); ok {
			f.Chown(int(sys.Uid), int(sys.Gid)) // best effort: only root may
		}
		if err := f.Chmod(st.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)); err != nil {
			out.Abort()
			return err
		}
	}
	return nil
}

// Name returns the path as given to Create.
func (out *File) Name() string { return out.path }

// TempName returns the temporary file's path, or "" when out writes
// straight into its target.
func (out *File) TempName() string { return out.tmp }

// Write buffers p for the output.
func (out *File) Write(p []byte) (int, error) {
	if out.done {
		return 0, fmt.Errorf("output %s: %w", out.path, os.ErrClosed)
	}
	return out.w.Write(p)
}

// Commit writes what is buffered, syncs it and, for a temporary file,
// renames it over the target. On error nothing replaced the target and the
// temporary file is removed.
func (out *File) Commit() error {
	if out.done {
		return fmt.Errorf("output %s: %w", out.path, os.ErrClosed)
	}
	err := out.w.Flush()
	if out.f == nil {
		out.done = true
		if err != nil {
			return fmt.Errorf("write %s: %w", out.target, err)
		}
		return nil
	}
	if err == nil && out.tmp != "" {
		err = out.f.Sync()
	}
	if cerr := out.f.Close(); err == nil {
		err = cerr
	}
	if err == nil && out.tmp != "" {
		err = os.Rename(out.tmp, out.target)
	}
	out.done = true
	if err != nil {
		out.removeTemp()
		var pe *fs.PathError
		if errors.As(err, &pe) && (pe.Path == out.target || pe.Path == out.tmp) {
			// Name the path once: "write FILE: input/output error".
			err = pe.Err
		}
		return fmt.Errorf("write %s: %w", out.path, err)
	}
	out.forgetTemp()
	return nil
}

// Abort drops what was written: the temporary file is removed and the
// target left as it was. Abort after Commit does nothing.
func (out *File) Abort() {
	if out.done {
		return
	}
	out.done = true
	if out.f != nil {
		out.f.Close()
	}
	out.removeTemp()
}

func (out *File) removeTemp() {
	if out.tmp != "" {
		os.Remove(out.tmp)
		out.forgetTemp()
	}
}

func (out *File) forgetTemp() {
	tempsMu.Lock()
	delete(temps, out.tmp)
	tempsMu.Unlock()
}

// Write creates path (see Create) with the bytes fill writes, committed
// only when fill succeeds.
func Write(path string, stdout io.Writer, fill func(io.Writer) error) error {
	out, err := Create(path, stdout)
	if err != nil {
		return err
	}
	if err := fill(out); err != nil {
		out.Abort()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return out.Commit()
}

// RemoveTemps removes every temporary file this process has not yet
// committed or aborted. It is safe to call from a signal handler's
// goroutine while outputs are being written.
func RemoveTemps() {
	tempsMu.Lock()
	defer tempsMu.Unlock()
	for name := range temps {
		os.Remove(name)
		delete(temps, name)
	}
}

// resolve follows path's symbolic links to the path that is to be
// replaced or written. direct is set when a link leads into /proc (the
// magic links of /dev/stdout, /dev/fd/N): such a target is written into,
// since its link text is not a path that can be replaced.
func resolve(path string) (target string, direct bool, err error) {
	p := path
	for range 40 {
		if dir, err := filepath.EvalSymlinks(filepath.Dir(p)); err == nil && isProc(dir) {
			return p, true, nil
		}
		st, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return p, false, nil
		}
		if err != nil {
			return "", false, err
		}
		if st.Mode()&fs.ModeSymlink == 0 {
			return p, false, nil
		}
		link, err := os.Readlink(p)
		if err != nil {
			return "", false, err
		}
		if !filepath.IsAbs(link) {
			link = filepath.Join(filepath.Dir(p), link)
		}
		if isProc(filepath.Clean(link)) {
			return p, true, nil
		}
		p = link
	}
	return "", false, fmt.Errorf("too many levels of symbolic links")
}

// kernelFSNames names the file systems whose files are the kernel's
// interfaces: writing a recording or a profile there makes no sense and
// may change the kernel's settings.
var kernelFSNames = map[int64]string{
	unix.PROC_SUPER_MAGIC:    "proc",
	unix.SYSFS_MAGIC:         "sysfs",
	unix.CGROUP_SUPER_MAGIC:  "cgroup",
	unix.CGROUP2_SUPER_MAGIC: "cgroup2",
	unix.DEBUGFS_MAGIC:       "debugfs",
	unix.TRACEFS_MAGIC:       "tracefs",
	unix.SECURITYFS_MAGIC:    "securityfs",
	unix.BPF_FS_MAGIC:        "bpf",
	unix.EFIVARFS_MAGIC:      "efivarfs",
	unix.PSTOREFS_MAGIC:      "pstore",
	unix.SELINUX_MAGIC:       "selinuxfs",
	unix.SMACK_MAGIC:         "smackfs",
	unix.BINFMTFS_MAGIC:      "binfmt_misc",
}

// kernelFS returns the name of the kernel interface file system target
// is on (the file when it exists, else its directory), or "". A link into
// /proc that leads to an open file elsewhere (/dev/stdout) is judged by
// that file.
func kernelFS(target string, exists bool) string {
	p := target
	if !exists {
		p = filepath.Dir(target)
	}
	var st unix.Statfs_t
	if err := unix.Statfs(p, &st); err != nil {
		return ""
	}
	return kernelFSNames[int64(st.Type)]
}

func isProc(p string) bool { return p == "/proc" || strings.HasPrefix(p, "/proc/") }

// removeStale removes the temporary files for dir/base left by profgen
// processes that no longer run (killed by SIGKILL, say).
func removeStale(dir, base string) {
	matches, _ := filepath.Glob(filepath.Join(dir, "."+globEscape(base)+tempInfix+"*"))
	for _, m := range matches {
		rest := strings.TrimPrefix(filepath.Base(m), "."+base+tempInfix)
		pidText, _, ok := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || pid <= 0 {
			continue
		}
		if pid != os.Getpid() && errors.Is(unix.Kill(pid, 0), unix.ESRCH) {
			os.Remove(m)
		}
	}
}

// otherWriter reports whether another File, of this process or another,
// is writing dir/base now: a temporary file for it, other than own, that
// is locked. It returns the writer's pid, from the file's name.
func otherWriter(dir, base, own string) (int, bool) {
	matches, _ := filepath.Glob(filepath.Join(dir, "."+globEscape(base)+tempInfix+"*"))
	for _, m := range matches {
		if m == own {
			continue
		}
		fd, err := unix.Open(m, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
		if err != nil {
			continue // gone already
		}
		err = unix.Flock(fd, unix.LOCK_SH|unix.LOCK_NB)
		unix.Close(fd)
		if errors.Is(err, unix.EWOULDBLOCK) {
			rest := strings.TrimPrefix(filepath.Base(m), "."+base+tempInfix)
			pidText, _, _ := strings.Cut(rest, "-")
			pid, _ := strconv.Atoi(pidText)
			return pid, true
		}
	}
	return 0, false
}

func globEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`)
	return r.Replace(s)
}

// Kind names a file type for an error: "character device", "FIFO" ...
func Kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeDevice != 0 && m&fs.ModeCharDevice == 0:
		return "block device"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeNamedPipe != 0:
		return "FIFO"
	case m.IsDir():
		return "directory"
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	}
	return "special file"
}
