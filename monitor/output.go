package monitor

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gopkg.in/natefinch/lumberjack.v2"
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
// keep is how many rotated files to keep (0: all).
func NewRotating(path string, maxMB, keep int, compress bool) (*Rotating, error) {
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("output %s: directory %s does not exist", path, dir)
	}
	l := &lumberjack.Logger{Filename: path, MaxSize: maxMB, MaxBackups: keep, Compress: compress}
	// Open now, so that an unwritable path fails before monitoring starts.
	if _, err := l.Write(nil); err != nil {
		return nil, fmt.Errorf("output %s: %w", path, err)
	}
	return &Rotating{Logger: l}, nil
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
