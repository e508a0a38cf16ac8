package main

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/fileio"
)

// The terminal helpers of the commands that print progress or refuse to
// write binary to a terminal (record, dump, emit, monitor).

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// toTerminal reports whether output (a -o value; empty or - is standard
// output) would be written to stdout and stdout is a terminal.
func toTerminal(stdout io.Writer, output string) bool {
	f, ok := stdout.(*os.File)
	return ok && (output == "" || output == fileio.Stdout) && isTerminal(f)
}

// checkBinaryOutput refuses to write binary output (what, e.g. "--format
// raw") to a terminal: it would garble it and help nobody.
func checkBinaryOutput(stdout io.Writer, output, what string) error {
	if toTerminal(stdout, output) {
		return fmt.Errorf("%s writes binary: give -o FILE or redirect standard output", what)
	}
	return nil
}
