package fileio

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// Stdin is what "-" names as an input: standard input.
const Stdin = "-"

// MaxInput is the largest input ReadFile reads: recordings of a million
// argument shapes are about 100 MiB.
const MaxInput = 512 << 20

// ErrTooLarge marks an input larger than the limit.
var ErrTooLarge = errors.New("larger than the input limit")

// ReadFile reads path, which must be a regular file of at most max bytes
// (MaxInput when max is 0), or "-" for stdin. A FIFO, a device, a socket
// or a directory is refused at once: the file is opened without blocking
// and checked before anything is read. Errors name path, never its content.
func ReadFile(path string, max int64, stdin io.Reader) ([]byte, error) {
	if max <= 0 {
		max = MaxInput
	}
	if path == "" {
		return nil, errors.New("empty input path")
	}
	if path == Stdin {
		// Standard input may be a pipe or a file, not a device that
		// never ends (< /dev/zero); a terminal is fine.
		if f, ok := stdin.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeDevice != 0 {
				if _, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS); err != nil {
					return nil, fmt.Errorf("read standard input: a %s, not a file or pipe", Kind(st.Mode()))
				}
			}
		}
		return readLimited("standard input", stdin, max)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, cause(err))
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, cause(err))
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("read %s: a %s, not a regular file", path, Kind(st.Mode()))
	}
	if st.Size() > max {
		return nil, fmt.Errorf("read %s: %d bytes is %w of %d bytes", path, st.Size(), ErrTooLarge, max)
	}
	return readLimited(path, f, max)
}

func readLimited(name string, r io.Reader, max int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("read %s: %w of %d bytes", name, ErrTooLarge, max)
	}
	return data, nil
}

// cause returns the error a *fs.PathError wraps (the path is named by the
// caller), or err.
func cause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
