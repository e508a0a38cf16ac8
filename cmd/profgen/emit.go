package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/profgen/profgen/emit"
	"github.com/profgen/profgen/internal/atomicfile"
	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/trace/recording"
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
	name          string
	noNewPrivs    bool
}

const defaultRecording = "profgen-recording.json"

func newEmitCmd() *cobra.Command {
	var p emitParams
	cmd := &cobra.Command{
		Use:   "emit [flags] [RECORDING...]",
		Short: "Write the profile learned from recordings",
		Long: `emit learns a minimal seccomp profile from one or more recordings (merged as
a union) and writes it. Formats (--format):
` + emit.FormatHelp() + `With systemd, bpf, c, go and go-libseccomp no container runtime loads the
filter: pass --runtime none.

The profile always allows a small baseline (rt_sigreturn, restart_syscall,
exit, exit_group), answers clone3 and faccessat2 with ENOSYS when they were
not recorded (so glibc falls back), and adds what --runtime calls itself
after loading the filter.`,
		Example: `  profgen emit --format oci -o seccomp.json profgen-recording.json
  profgen emit --format oci --runtime crun --default-action kill a.json b.json
  profgen emit --format text --args none rec.json
  profgen emit --format c --runtime none -o profile.c rec.json
  profgen emit --format k8s --name my-app -o my-app.yaml rec.json
  profgen emit --no-new-privileges -o seccomp.json rec.json   # for allowPrivilegeEscalation: false
  profgen emit --format systemd --runtime none -o /etc/systemd/system/app.service.d/seccomp.conf rec.json
  profgen emit --format bpf --runtime none -o filter.bpf rec.json   # bwrap --seccomp 3 3<filter.bpf ...
  profgen emit --format go --runtime none --go-package sandbox -o sandbox/filter.go rec.json
  profgen emit --format go-libseccomp --runtime none -o sandbox/filter.go rec.json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runEmit(cmd.OutOrStdout(), &p, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&p.format, "format", emit.Formats[0].Name, "output format: "+strings.Join(emit.FormatNames(), ", "))
	f.StringVarP(&p.output, "output", "o", "", "write to FILE instead of standard output")
	f.StringVar(&p.runtime, "runtime", "runc", "container runtime whose own syscalls to allow: runc, crun or none")
	f.StringVar(&p.defaultAction, "default-action", "errno", "action for everything not allowed: errno (EPERM), kill or log")
	f.StringVar(&p.args, "args", "shapes", "pin argument values: shapes, or none for names only")
	f.IntVar(&p.maxValues, "max-values", learn.DefaultMaxValues, "stop pinning an argument seen with more distinct values than this")
	f.BoolVar(&p.logFlag, "log-denials", false, "set SECCOMP_FILTER_FLAG_LOG so that denied syscalls are logged to audit (runc before 1.2 refuses such a profile)")
	f.StringVar(&p.goPackage, "go-package", emit.DefaultGoPackage, "package name of --format go and go-libseccomp output")
	f.BoolVar(&p.noNewPrivs, "no-new-privileges", false, "the container runs with no_new_privs (Kubernetes allowPrivilegeEscalation: false, docker --security-opt no-new-privileges): add only what --runtime runc calls then")
	f.StringVar(&p.name, "name", "", "metadata.name of --format k8s output (default: derived from the recorded command)")
	return cmd
}

func runEmit(stdout io.Writer, p *emitParams, args []string) error {
	format, err := emit.LookupFormat(p.format)
	if err != nil {
		return fmt.Errorf("unknown --format %q (want %s)", p.format, strings.Join(emit.FormatNames(), ", "))
	}
	if err := emit.CheckGoPackage(p.goPackage); err != nil {
		return fmt.Errorf("--go-package: %w", err)
	}
	if p.name != "" {
		if err := emit.CheckK8sName(p.name); err != nil {
			return fmt.Errorf("--name: %w", err)
		}
	}
	opts := emit.Options{
		Version: version, Log: p.logFlag, GoPackage: p.goPackage, Name: p.name,
		Compile: compileProfile,
		Warn:    func(msg string) { fmt.Fprintf(os.Stderr, "profgen: warning: %s\n", msg) },
	}
	rt, err := learn.ParseRuntime(p.runtime)
	if err != nil {
		return fmt.Errorf("--runtime: %w", err)
	}
	if p.noNewPrivs && rt != learn.RuntimeRunc {
		return fmt.Errorf("--no-new-privileges applies to --runtime runc only (not %s)", rt)
	}
	def, err := learn.ParseDefaultAction(p.defaultAction)
	if err != nil {
		return fmt.Errorf("--default-action: %w", err)
	}
	prof, err := learnFromFiles(args, learn.Options{
		Args: learn.ArgsMode(p.args), MaxValues: p.maxValues, Runtime: rt, DefaultAction: &def,
		NoNewPrivileges: p.noNewPrivs,
	})
	if err != nil {
		return err
	}
	write := func(w io.Writer) error { return format.Write(w, prof, opts) }
	if p.output == "" || p.output == "-" {
		return write(stdout)
	}
	return atomicfile.Write(p.output, 0o644, write)
}

// learnFromFiles reads recordings (default: profgen-recording.json), merges
// them and learns one profile.
func learnFromFiles(paths []string, opts learn.Options) (*learn.Profile, error) {
	if len(paths) == 0 {
		paths = []string{defaultRecording}
	}
	recs := make([]*recording.Recording, 0, len(paths))
	var bases []string // --base profiles of log recordings, in order
	for _, path := range paths {
		r, err := recording.ReadFile(path)
		if err != nil {
			return nil, err
		}
		recs = append(recs, r)
		if r.Base == "mixed" {
			return nil, fmt.Errorf("recording %s merges recordings made against different --base profiles: emit from those recordings instead", path)
		}
		if r.Base != "" && !slices.Contains(bases, r.Base) {
			bases = append(bases, r.Base)
		}
	}
	rec, err := recording.Merge(recs...)
	if err != nil {
		return nil, err
	}
	prof, err := learn.FromRecording(rec, opts)
	if err != nil {
		return nil, err
	}
	// A recording made with --base holds only what the base profile did
	// not allow: the profile is the base plus what was learned.
	profs := []*learn.Profile{prof}
	for _, b := range bases {
		bp, err := readProfile(b)
		if err != nil {
			return nil, fmt.Errorf("base profile of the recording: %w", err)
		}
		profs = append(profs, bp)
	}
	if len(profs) == 1 {
		return prof, nil
	}
	return learn.Merge(profs...)
}

// readProfile reads an OCI profile and tells the user, on standard error,
// what reading it left out (Docker's conditional entries, syscalls of
// other architectures).
func readProfile(path string) (*learn.Profile, error) {
	p, err := emit.ReadOCIFile(path)
	if err != nil {
		return nil, err
	}
	for _, n := range p.Notes {
		fmt.Fprintf(os.Stderr, "profgen: note: profile %s: %s\n", path, n)
	}
	return p, nil
}
