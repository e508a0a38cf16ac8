package filter

import (
	"fmt"
	"io"
	"os"

	seccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"

	iseccomp "github.com/profgen/profgen/internal/seccomp"
)

// Program exports f as the raw struct sock_filter program, in native
// byte order, that seccomp(2) loads and trace.LogOptions.Filter takes.
func Program(f *seccomp.ScmpFilter) ([]byte, error) {
	fd, err := unix.MemfdCreate("profgen-filter", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("export filter: %w", err)
	}
	mf := os.NewFile(uintptr(fd), "profgen-filter")
	defer mf.Close()
	if err := f.ExportBPF(mf); err != nil {
		return nil, fmt.Errorf("export filter: %w", err)
	}
	if _, err := mf.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("export filter: %w", err)
	}
	prog, err := io.ReadAll(mf)
	if err != nil {
		return nil, fmt.Errorf("export filter: %w", err)
	}
	if _, err := iseccomp.DecodeFilter(prog); err != nil {
		return nil, err
	}
	return prog, nil
}
