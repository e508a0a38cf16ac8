package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/exitcode"
	"github.com/profgen/profgen/internal/fileio"
	ll "github.com/profgen/profgen/internal/landlock"
	"github.com/profgen/profgen/internal/seccomp"
	"github.com/profgen/profgen/landlock"
)

type execParams struct {
	seccomp  string
	landlock string
	log      bool
	quiet    bool
}

func newExecCmd() *cobra.Command {
	var p execParams
	cmd := &cobra.Command{
		Use:   "exec [--seccomp PROFILE] [--landlock RULESET] [--log-denials] -- COMMAND [ARG...]",
		Short: "Run a command under a seccomp profile and a Landlock ruleset",
		Long: `exec applies a Landlock ruleset (Landlock's configuration format, as
emit --format landlock writes it) and then a seccomp profile (OCI JSON, as
emit writes it) to itself, and execs COMMAND, which inherits both. The
Landlock ruleset comes first: the seccomp filter, loaded last in one call
with the execve, judges none of the launcher's own calls.

On a kernel without Landlock, or whose Landlock ABI lacks a right the
ruleset handles, exec says in one line per feature what is not enforced and
which kernel has it, and applies the rest; the seccomp profile is applied
all the same. --log-denials logs Landlock's denials of COMMAND to audit
(Linux 6.15) and sets SECCOMP_FILTER_FLAG_LOG for the seccomp filter.

exec is also a container's entrypoint: put it in front of the container's
command (profgen-runc does so for the annotation io.profgen.landlock).

Exit status: COMMAND's own once it runs; 125 when exec cannot read or apply
a profile, 127 when COMMAND cannot be executed.`,
		Example: `  profgen exec --seccomp seccomp.json --landlock ruleset.json -- ./server --port 8080
  profgen exec --landlock ruleset.json -- nginx -g 'daemon off;'`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExec(&p, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&p.seccomp, "seccomp", "", "seccomp profile to apply (OCI JSON)")
	f.StringVar(&p.landlock, "landlock", "", "Landlock ruleset to apply (Landlock's configuration format)")
	f.BoolVar(&p.log, "log-denials", false, "log denials to audit: Landlock's of COMMAND (LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON), seccomp's (SECCOMP_FILTER_FLAG_LOG)")
	f.BoolVarP(&p.quiet, "quiet", "q", false, "do not print what this kernel cannot enforce")
	return cmd
}

// runExec applies the restrictions and execs; it returns only on failure.
func runExec(p *execParams, args []string) error {
	if p.seccomp == "" && p.landlock == "" {
		return &exitError{code: exitcode.Tool, err: errors.New("exec: give --seccomp PROFILE, --landlock RULESET or both")}
	}
	var restrictions []seccomp.Restriction
	if p.landlock != "" {
		r, err := readRuleset(p.landlock)
		if err != nil {
			return &exitError{code: exitcode.Tool, err: err}
		}
		kr, notes := r.Restriction(p.log).Downgrade(ll.ABI())
		if !p.quiet {
			for _, n := range notes {
				fmt.Fprintf(os.Stderr, "profgen: warning: %s\n", n)
			}
			kr.Warn = func(s string) { fmt.Fprintf(os.Stderr, "profgen: warning: %s\n", s) }
		}
		if kr.HandledFS|kr.HandledNet|kr.Scoped != 0 {
			restrictions = append(restrictions, &kr)
		}
	}
	if p.seccomp != "" {
		in, err := readInput(p.seccomp)
		if err != nil {
			return &exitError{code: exitcode.Tool, err: err}
		}
		if in.prof == nil {
			return &exitError{code: exitcode.Tool, err: fmt.Errorf("--seccomp %s is a recording: give a profile (profgen emit -o seccomp.json %s)", p.seccomp, p.seccomp)}
		}
		prog, err := compileProfile(in.prof)
		if err != nil {
			return &exitError{code: exitcode.Tool, err: fmt.Errorf("--seccomp %s: %w", p.seccomp, err)}
		}
		var flags uint
		if p.log {
			flags = unix.SECCOMP_FILTER_FLAG_LOG
		}
		restrictions = append(restrictions, &seccomp.Filter{Program: prog, Flags: flags})
	}
	path, err := exec.LookPath(args[0])
	if err != nil {
		return &exitError{code: 127, err: fmt.Errorf("exec %s: %w", args[0], err)}
	}
	// Landlock restricts the calling thread, which execs: stay on it.
	runtime.LockOSThread()
	execFailed, err := seccomp.ExecRestricted(restrictions, path, args, os.Environ())
	code := exitcode.Tool
	if execFailed {
		code = 127
	}
	return &exitError{code: code, err: err}
}

// readRuleset reads a Landlock ruleset file.
func readRuleset(path string) (*landlock.Ruleset, error) {
	data, err := fileio.ReadFile(path, 0, os.Stdin)
	if err != nil {
		return nil, err
	}
	r, err := landlock.ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}
