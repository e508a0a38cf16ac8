package monitor

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gopkg.in/natefinch/lumberjack.v2"

	"github.com/profgen/profgen/internal/fileio"
)

// ParseSize parses a --max-size value: a whole number of megabytes or
// gigabytes, "100M" or "1G" (the rotation library counts in megabytes).
func ParseSize(s string) (int, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := 1
	switch {
	case strings.HasSuffix(t, "G"):
		mult, t = 1024, strings.TrimSuffix(t, "G")
	case strings.HasSuffix(t, "M"):
		t = strings.TrimSuffix(t, "M")
	}
	n, err := strconv.Atoi(t)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("size %q: want a whole number of megabytes or gigabytes, at least 1M (such as 100M or 1G)", s)
	}
	return n * mult, nil
}

// Rotating is an output file rotated by size with
// gopkg.in/natefinch/lumberjack.v2: when a write would make it larger than
// MaxSize, the file is renamed NAME-TIMESTAMP.EXT (gzipped when Compress)
// and a new one started; Keep rotated files are kept.
type Rotating struct {
	*lumberjack.Logger
}

// NewRotating opens path for appending, rotated at maxMB megabytes.
// keep is how many rotated files to keep (0: all). Rotating renames the
// file, so path must be a regular file or a new path: a symbolic link is
// followed and its target rotated (the link stays), anything else (a
// device such as /dev/null, a FIFO, /dev/stdout) is refused, never
// renamed.
func NewRotating(path string, maxMB, keep int, compress bool) (*Rotating, error) {
	target, err := rotationTarget(path)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(target)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("output %s: directory %s does not exist", path, dir)
	}
	l := &lumberjack.Logger{Filename: target, MaxSize: maxMB, MaxBackups: keep, Compress: compress}
	// Open now, so that an unwritable path fails before monitoring starts.
	if _, err := l.Write(nil); err != nil {
		return nil, fmt.Errorf("output %s: %w", path, err)
	}
	return &Rotating{Logger: l}, nil
}

// rotationTarget returns the file that rotating path renames: path, or
// the target of the symbolic links at path (which may not exist yet). It
// must be a regular file or not exist yet.
func rotationTarget(path string) (string, error) {
	target := path
	for range 40 {
		if t := filepath.Clean(target); t == "/proc" || strings.HasPrefix(t, "/proc/") {
			return "", fmt.Errorf("output %s leads into /proc (a stream such as /dev/stdout): a log rotated by size is renamed, so it must be a regular file or a new path; redirect standard output instead", path)
		}
		st, err := os.Lstat(target)
		if errors.Is(err, fs.ErrNotExist) {
			return target, nil
		}
		if err != nil {
			return "", fmt.Errorf("output %s: %w", path, err)
		}
		if st.Mode().IsRegular() {
			return target, nil
		}
		if st.Mode()&fs.ModeSymlink == 0 {
			return "", fmt.Errorf("output %s is a %s: a log rotated by size is renamed, so it must be a regular file or a new path; to write into a device or pipe, redirect standard output instead", path, fileio.Kind(st.Mode()))
		}
		link, err := os.Readlink(target)
		if err != nil {
			return "", fmt.Errorf("output %s: %w", path, err)
		}
		if !filepath.IsAbs(link) {
			link = filepath.Join(filepath.Dir(target), link)
		}
		target = link
	}
	return "", fmt.Errorf("output %s: too many levels of symbolic links", path)
}

// Close closes the file and waits (at most a minute) until the library's
// background work has compressed every rotated file, so that a SIGTERM
// leaves no half-written archive.
func (r *Rotating) Close() error {
	err := r.Logger.Close()
	if !r.Compress {
		return err
	}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if len(r.uncompressed()) == 0 {
			break
		}
	}
	if left := r.uncompressed(); len(left) > 0 && err == nil {
		err = fmt.Errorf("output: rotated files not compressed: %s", strings.Join(left, " "))
	}
	return err
}

// uncompressed lists the rotated files not yet gzipped (or being gzipped).
func (r *Rotating) uncompressed() []string {
	ext := filepath.Ext(r.Filename)
	prefix := strings.TrimSuffix(r.Filename, ext) + "-"
	matches, _ := filepath.Glob(prefix + "*" + ext)
	return matches
}
