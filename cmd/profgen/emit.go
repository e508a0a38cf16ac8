package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"

	"github.com/profgen/profgen/emit"
	"github.com/profgen/profgen/internal/fileio"
	"github.com/profgen/profgen/learn"
)

type emitParams struct {
	format        string
	output        string
	runtime       string
	defaultAction string
	args          string
	maxValues     int
	logFlag       bool
	goPackage     string
	// allowIncomplete emits from recordings that lost events, marking
	// every output.
	allowIncomplete bool
}

// validate checks the flags that need no input.
func (p *emitParams) validate() error {
	if !slices.Contains([]string{"oci", "text", "c", "go"}, p.format) {
		return fmt.Errorf("unknown --format %q (want oci, text, c or go)", p.format)
	}
	if p.maxValues < 1 {
		return fmt.Errorf("--max-values %d: must be at least 1 (the default is %d; --args none pins no argument at all)", p.maxValues, learn.DefaultMaxValues)
	}
	return nil
}

const defaultRecording = "profgen-recording.json"

func newEmitCmd() *cobra.Command {
	var p emitParams
	cmd := &cobra.Command{
		Use:   "emit [flags] [RECORDING...]",
		Short: "Write the profile learned from recordings",
		Long: `emit learns a minimal seccomp profile from one or more recordings (merged as
a union) and writes it. Formats:
  oci    runtime-spec LinuxSeccomp JSON, for docker --security-opt seccomp=FILE,
         podman, Kubernetes localhost profiles, runc and crun
  text   a table of every allowed syscall with its rules, coverage and origin
  c      C source for libseccomp with int profgen_load_filter(void); built with
         cc -DPROFGEN_MAIN -o launcher FILE.c -lseccomp it is a launcher that
         loads the filter and executes its arguments
  go     Go source (package --go-package) with func LoadFilter() error, using
         github.com/seccomp/libseccomp-golang; the filter covers every thread
With c and go no container runtime loads the filter: pass --runtime none.

-o FILE replaces a regular file (or creates one, 0666 less the umask; an
existing file keeps its mode) only once the whole profile was written; a
symbolic link is written through, a device or FIFO (/dev/stdout) written
into; - is standard output, as is no -o at all.

A recording that lost events (its "lost" is not 0) misses syscalls or
argument values: emit refuses it, naming the loss, unless --allow-incomplete
is given. Then every output is marked: a first comment line in text, C and
Go, and in OCI JSON (which has no comment) a top-level "profgenIncomplete"
field that runtimes ignore and profgen reports; emit also warns on standard
error.

The profile always allows a small baseline (rt_sigreturn, restart_syscall,
exit, exit_group), answers clone3 and faccessat2 with ENOSYS when they were
not recorded (so glibc falls back), and adds what --runtime calls itself
after loading the filter.`,
		Example: `  profgen emit --format oci -o seccomp.json profgen-recording.json
  profgen emit --format oci --runtime crun --default-action kill a.json b.json
  profgen emit --format text --args none rec.json
  profgen emit --format c --runtime none -o profile.c rec.json
  profgen emit --format go --runtime none --go-package sandbox -o sandbox/filter.go rec.json
  profgen emit --allow-incomplete -o seccomp.json lossy.json   # marked INCOMPLETE
  profgen emit - < rec.json > seccomp.json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := p.validate(); err != nil {
				return err
			}
			return runEmit(cmd.OutOrStdout(), &p, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&p.format, "format", "oci", "output format: oci, text, c or go")
	f.StringVarP(&p.output, "output", "o", "", "write to FILE, - for standard output (the default)")
	f.StringVar(&p.runtime, "runtime", "runc", "container runtime whose own syscalls to allow: runc, crun or none")
	f.StringVar(&p.defaultAction, "default-action", "errno", "action for everything not allowed: errno (EPERM), kill or log")
	f.StringVar(&p.args, "args", "shapes", "pin argument values: shapes, or none for names only")
	f.IntVar(&p.maxValues, "max-values", learn.DefaultMaxValues, "stop pinning an argument seen with more distinct values than this (at least 1)")
	f.BoolVar(&p.logFlag, "log-denials", false, "set SECCOMP_FILTER_FLAG_LOG so that denied syscalls are logged to audit (runc before 1.2 refuses such a profile)")
	f.StringVar(&p.goPackage, "go-package", emit.DefaultGoPackage, "package name of --format go output")
	f.BoolVar(&p.allowIncomplete, "allow-incomplete", false, "emit from recordings that lost events, marking the output as incomplete")
	return cmd
}

func runEmit(stdout io.Writer, p *emitParams, args []string) error {
	rt, err := learn.ParseRuntime(p.runtime)
	if err != nil {
		return fmt.Errorf("--runtime: %w", err)
	}
	def, err := learn.ParseDefaultAction(p.defaultAction)
	if err != nil {
		return fmt.Errorf("--default-action: %w", err)
	}
	// The output first: an unwritable one fails before any work, and a
	// signal while the inputs are read removes its temporary file.
	if p.output == "" {
		p.output = fileio.Stdout
	}
	out, err := fileio.Create(p.output, stdout)
	if err != nil {
		return err
	}
	defer out.Abort()
	recs, err := readRecordings(args)
	if err != nil {
		return err
	}
	loss := lossText(recs.Recording)
	if loss != "" && !p.allowIncomplete {
		return fmt.Errorf("%s; emit refuses it unless --allow-incomplete is given", loss)
	}
	prof, err := recs.learn(learn.Options{
		Args: learn.ArgsMode(p.args), MaxValues: p.maxValues, Runtime: rt, DefaultAction: &def,
	})
	if err != nil {
		return err
	}
	write := func(w io.Writer) error {
		code := emit.CodeOptions{Version: version, Log: p.logFlag}
		switch p.format {
		case "text":
			return emit.WriteText(w, prof)
		case "c":
			return emit.WriteC(w, prof, code)
		case "go":
			return emit.WriteGo(w, prof, p.goPackage, code)
		}
		var opts emit.OCIOptions
		if p.logFlag {
			opts.Flags = append(opts.Flags, specs.LinuxSeccompFlagLog)
		}
		doc, err := emit.OCI(prof, opts)
		if err != nil {
			return err
		}
		return emit.WriteOCI(w, doc)
	}
	if loss != "" {
		fmt.Fprintf(os.Stderr, "profgen: warning: %s; the output is marked incomplete\n", loss)
		write = markIncomplete(p.format, loss, write)
	}
	if err := write(out); err != nil {
		return fmt.Errorf("write %s: %w", p.output, err)
	}
	return out.Commit()
}

// markIncomplete wraps write so that its output starts with a mark saying
// what was lost: a comment line in text, C and Go, a top-level field in
// OCI JSON (emit.IncompleteField: runc, crun, Docker and podman ignore
// fields they do not know, profgen's reader reports it).
func markIncomplete(format, loss string, write func(io.Writer) error) func(io.Writer) error {
	mark := "INCOMPLETE: " + loss
	return func(w io.Writer) error {
		switch format {
		case "text":
			fmt.Fprintf(w, "# %s\n", mark)
		case "c":
			fmt.Fprintf(w, "/* %s */\n", mark)
		case "go":
			fmt.Fprintf(w, "// %s\n\n", mark)
		default:
			var buf bytes.Buffer
			if err := write(&buf); err != nil {
				return err
			}
			field, err := json.Marshal(mark)
			if err != nil {
				return err
			}
			doc, ok := bytes.CutPrefix(buf.Bytes(), []byte("{\n"))
			if !ok {
				return errors.New("OCI output does not start with {")
			}
			fmt.Fprintf(w, "{\n  %q: %s,\n", emit.IncompleteField, field)
			_, err = w.Write(doc)
			return err
		}
		return write(w)
	}
}
