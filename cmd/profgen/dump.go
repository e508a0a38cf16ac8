package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/profgen/profgen/internal/fileio"
	"github.com/profgen/profgen/internal/seccomp"
)

// Output formats of dump.
const (
	dumpRaw  = "raw"
	dumpText = "text"
)

type dumpParams struct {
	pid    int
	index  int
	output string
	format string
}

// validate checks the flags once; stdout decides the default format.
func (p *dumpParams) validate(stdout io.Writer) error {
	if p.pid <= 0 {
		return errors.New("dump needs --pid PID (a positive process id)")
	}
	if p.index < 0 {
		return fmt.Errorf("--index %d: must be 0 (the first filter installed) or more", p.index)
	}
	switch p.format {
	case "":
		p.format = dumpRaw
		if toTerminal(stdout, p.output) {
			p.format = dumpText
		}
	case dumpRaw:
		if err := checkBinaryOutput(stdout, p.output, "--format raw"); err != nil {
			return err
		}
	case dumpText:
	default:
		return fmt.Errorf("--format %q: want raw or text", p.format)
	}
	return nil
}

func newDumpCmd() *cobra.Command {
	var p dumpParams
	cmd := &cobra.Command{
		Use:   "dump --pid PID [--index N] [-o FILE] [--format raw|text]",
		Short: "Read the seccomp filter a running process carries",
		Long: `dump reads a seccomp filter installed in a running process with
PTRACE_SECCOMP_GET_FILTER. A process may carry several stacked filters (all
run; the strictest verdict wins). The kernel numbers them from the first
installed: index 0 is the oldest, the highest the most recent (despite what
ptrace(2) says). dump seizes the process with ptrace
without sending it a signal, reads the filter and detaches.

--format raw writes the struct sock_filter array as the kernel holds it (8
bytes an instruction, native byte order), which 'profgen explain' reads;
--format text writes a disassembly with syscall names and decoded actions.
The default is text on a terminal, raw otherwise; --format raw to a terminal
is refused.

Needs CAP_SYS_ADMIN (root), and profgen must not run under seccomp itself.`,
		Example: `  sudo profgen dump --pid 1234
  sudo profgen dump --pid 1234 -o filter.bpf && profgen explain filter.bpf
  sudo profgen dump --pid "$(pidof nginx | cut -d' ' -f1)" --index 1 --format text`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := p.validate(cmd.OutOrStdout()); err != nil {
				return err
			}
			return runDump(cmd.OutOrStdout(), &p)
		},
	}
	cmd.Flags().IntVar(&p.pid, "pid", 0, "process (or thread) id to read the filter of")
	cmd.Flags().IntVar(&p.index, "index", 0, "which stacked filter: 0 is the first installed")
	cmd.Flags().StringVarP(&p.output, "output", "o", "", "write to FILE, - for standard output (the default)")
	cmd.Flags().StringVar(&p.format, "format", "", "raw (struct sock_filter array) or text (disassembly); default text on a terminal, raw otherwise")
	return cmd
}

func runDump(stdout io.Writer, p *dumpParams) error {
	prog, err := seccomp.GetFilter(p.pid, p.index)
	if err != nil {
		return fmt.Errorf("dump: %w", err)
	}
	var out bytes.Buffer
	if p.format == dumpRaw {
		out.Write(seccomp.Bytes(prog))
	} else {
		fmt.Fprintf(&out, "; filter %d of process %d: %s\n", p.index, p.pid, seccomp.Summary(prog))
		if err := seccomp.Disassemble(&out, prog); err != nil {
			return err
		}
	}
	if p.output == "" {
		p.output = fileio.Stdout
	}
	return fileio.Write(p.output, stdout, func(w io.Writer) error {
		_, err := w.Write(out.Bytes())
		return err
	})
}
