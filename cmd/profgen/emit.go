package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/emit"
	"github.com/profgen/profgen/explain"
	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/internal/fileio"
	"github.com/profgen/profgen/landlock"
	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/readers"
	"github.com/profgen/profgen/recording"
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
	// allowIncomplete emits from recordings that lost events, marking
	// every output.
	allowIncomplete bool
	// arch lists the architectures to write the profile for (--arch);
	// archFill adds the replacements of syscalls they lack.
	arch     string
	archFill bool
	// quiet silences the notes of the inputs and the warning about lost
	// events.
	quiet bool
	// learnFlags are the flags given that say how to learn from
	// recordings, refused for a profile input.
	learnFlags []string
	// dockerDefault writes Docker's default profile instead of one
	// learned from recordings.
	dockerDefault bool
	// phase writes the profile of that phase of the recordings alone
	// (recording.PhaseStartup or PhaseServing).
	phase string
	// envelope widens the profile to what the recorded executables can
	// reach (envelopeReachable, envelopeAll; reachable.go).
	envelope string
	// reachable marks each syscall of the text output with whether the
	// recorded executables can make it (--reachable).
	reachable bool
	// reach is the analysis of the recorded executables, made once for
	// --envelope and --reachable.
	reach *reachReport

	// serving is the serving phase's profile, for the formats that
	// offer EnterServing; set by profile.
	serving *learn.Profile
	// servingNote says which housekeeping calls of start-up the serving
	// phase's profile keeps (servingPhase), "" for none.
	servingNote string

	// Set by validate.
	arches []abi.Arch
	fmt    emit.Format
	// llfmt is the Landlock format chosen, nil for a seccomp one.
	llfmt *emit.LandlockFormat
	// merged is the recordings' union, when the input was recordings.
	merged *recording.Recording
	rt     learn.Loader
	def    learn.Action
	am     learn.ArgsMode
}

// validate checks the flags that need no input; stdout is where no -o
// writes.
func (p *emitParams) validate(stdout io.Writer) error {
	var err error
	if f, ok := emit.LookupLandlockFormat(p.format); ok {
		p.llfmt = &f
	} else if p.fmt, err = emit.LookupFormat(p.format); err != nil {
		return fmt.Errorf("unknown --format %q (want %s)", p.format, strings.Join(append(emit.FormatNames(), emit.LandlockFormatNames()...), ", "))
	}
	if p.fmt.Binary {
		if err := checkBinaryOutput(stdout, p.output, "--format "+p.format); err != nil {
			return err
		}
	}
	if p.am, err = learn.ParseArgsMode(p.args); err != nil {
		return fmt.Errorf("--args: %w", err)
	}
	if p.maxValues < 1 {
		return fmt.Errorf("--max-values %d: must be at least 1 (the default is %d; --args none pins no argument at all)", p.maxValues, learn.DefaultMaxValues)
	}
	if err := emit.CheckGoPackage(p.goPackage); err != nil {
		return fmt.Errorf("--go-package: %w", err)
	}
	if p.name != "" {
		if err := emit.CheckK8sName(p.name); err != nil {
			return fmt.Errorf("--name: %w", err)
		}
	}
	if p.phase != "" {
		if p.phase != recording.PhaseStartup && p.phase != recording.PhaseServing {
			return fmt.Errorf("--phase %q: want %s or %s", p.phase, recording.PhaseStartup, recording.PhaseServing)
		}
		if p.dockerDefault {
			return fmt.Errorf("--phase %s applies to recordings, not --docker-default", p.phase)
		}
	}
	if p.runtime == "" {
		// The format's own default: runc where an OCI runtime loads
		// the output, none where nothing calls runc's own syscalls.
		p.rt = p.fmt.Runtime
		if p.phase != "" {
			// A phase's filter is stacked by the program itself,
			// after its start: no runtime runs then.
			p.rt = learn.LoaderNone
		}
	} else if p.rt, err = learn.ParseLoader(p.runtime); err != nil {
		return fmt.Errorf("--runtime: %w", err)
	}
	if p.phase != "" && p.rt != learn.LoaderNone {
		return fmt.Errorf("--phase %s with --runtime %s: a phase's profile is loaded by the program itself once that phase begins, when no runtime runs: give --runtime none or no --runtime", p.phase, p.rt)
	}
	if p.noNewPrivs && p.rt != learn.LoaderRunc {
		return fmt.Errorf("--no-new-privileges applies to --runtime runc only (not %s)", p.rt)
	}
	if p.def, err = learn.ParseDefaultAction(p.defaultAction); err != nil {
		return fmt.Errorf("--default-action: %w", err)
	}
	if p.arch != "" {
		if p.arches, err = learn.ParseArches(p.arch); err != nil {
			return fmt.Errorf("--arch: %w", err)
		}
		if len(p.arches) > 1 && !p.fmt.MultiArch {
			return fmt.Errorf("--arch %s: --format %s holds one architecture: write one output per architecture", p.arch, p.format)
		}
	} else if p.archFill {
		return fmt.Errorf("--arch-fill needs --arch")
	}
	if p.envelope != "" && p.envelope != envelopeReachable && p.envelope != envelopeAll {
		return fmt.Errorf("--envelope %q: want %s or %s", p.envelope, envelopeReachable, envelopeAll)
	}
	if p.reachable && p.format != "text" {
		return fmt.Errorf("--reachable marks the text format's table (not --format %s)", p.format)
	}
	if p.allowIncomplete && !p.fmt.Markable() {
		return fmt.Errorf("--allow-incomplete: --format %s cannot carry the mark that says the profile is incomplete", p.format)
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
a union) and writes it. Formats (--format):
` + emit.FormatHelp() + `and, from the recording's landlock section (eBPF backend), the file
hierarchies and TCP ports of a Landlock ruleset (docs/landlock.md):
` + emit.LandlockFormatHelp() + `--runtime adds what that container runtime calls itself after loading the
filter. Its default is the format's, shown above: runc where a container
runtime loads the output, none where none does (a program, systemd or
bwrap loads it); pass --runtime crun for a bpf filter given to crun's
annotation run.oci.seccomp_bpf_data (base64 of the file). The text format
says which runtime's calls were added.

An input may be an OCI or Docker seccomp profile instead (told apart by
its "defaultAction"): emit converts it as is, adding neither the baseline
nor a runtime's calls, and refuses the flags that say how to learn
(--runtime, --default-action, --args, --max-values, --no-new-privileges).

--docker-default writes Docker's default profile as dockerd loads it for a
container with Docker's default capabilities on this machine's architecture
and kernel (its conditional entries resolved by github.com/moby/profiles),
converted like a profile input, to diff a learned profile against it.

-o FILE replaces a regular file (or creates one, 0666 less the umask; an
existing file keeps its mode) only once the whole profile was written; a
symbolic link is written through, a device or FIFO (/dev/stdout) written
into; - is standard output, as is no -o at all. An output that is one of
the inputs (the same file, also through a link) is refused. --format bpf is
binary and refused when standard output is a terminal.

A recording that lost events (its "lost" is not 0) misses syscalls or
argument values: emit refuses it, naming the loss, unless --allow-incomplete
is given. Then every output is marked: a first comment line in text, k8s,
systemd, C and Go, and in OCI JSON (which has no comment) a top-level
"profgenIncomplete" field that runtimes ignore and profgen reports; the raw
bpf format cannot be marked and is refused. emit also warns on standard
error.

emit prints on standard error, one line each, every note of its input
recordings that changes what the profile means (recorded under the
engine's filter, a container that exited at once, audit records lost, an
interrupted recording): a profile learned from such a recording may miss
calls. --quiet silences those notes and the warning about lost events.
When standard error is a terminal, emit ends with one line saying what it
wrote and how many syscalls the profile allows (not with --quiet).

The profile always allows a small baseline (rt_sigreturn, restart_syscall,
exit, exit_group), answers clone3 and faccessat2 with ENOSYS when they were
not recorded (so glibc falls back), and adds what --runtime calls itself
after loading the filter.

--arch LIST (x86_64, aarch64, comma-separated) writes the profile for those
architectures: each syscall the architecture has is carried over, its
argument values translated where they differ (open flags); a syscall it
lacks (open, stat, epoll_wait on aarch64) is left out with a warning naming
what replaces it there, which --arch-fill adds. A rule that cannot be
carried over leaves its syscall allowed by name, with a warning. Several
architectures make one document (oci, k8s): see docs/formats.md.

--phase startup or serving writes the profile of that phase of the run
alone, for a recording made with --ready (or profgen-runc's
io.profgen.ready annotation): the calls made before the target was ready,
or after. The baseline is added, a runtime's calls are not (--runtime none
is the default then, and another runtime refused): a program stacks the
serving filter itself once its start-up is done, when no runtime runs. A
recording without phases is refused. From a recording with phases, without
--phase, --format c, go and go-libseccomp also hold the serving filter and
the function that stacks it (profgen_enter_serving, EnterServing). The
serving phase's profile keeps the thread and memory calls (clone, mmap, ...)
that start-up recorded: a runtime makes them whenever it needs to; emit
says which.

--envelope reachable (opt-in) writes a looser profile: the recorded calls
and every syscall the recorded executables can reach (profgen reachable:
their code, libraries, loader and vDSO) that is not on explain's dangerous
list, allowed whatever the arguments; --envelope reachable-all without that
exception. The text format marks the entries it added (origin reachable);
what could not be analysed is printed as a note, since the envelope then
misses what that code reaches (docs/reachable.md). --reachable (text
format) marks each syscall with whether that code can make it: a recorded
syscall it cannot is a gap of the analysis or a call the kernel makes.`,
		Example: `  profgen emit --format oci -o seccomp.json profgen-recording.json
  profgen emit --format oci --runtime crun --default-action kill a.json b.json
  profgen emit --format text --args none rec.json
  profgen emit --format c -o profile.c rec.json
  profgen emit --format k8s --name my-app -o my-app.yaml rec.json
  profgen emit --no-new-privileges -o seccomp.json rec.json   # for allowPrivilegeEscalation: false
  profgen emit --format systemd -o /etc/systemd/system/app.service.d/seccomp.conf rec.json
  profgen emit --format bpf -o filter.bpf rec.json   # bwrap --seccomp 3 3<filter.bpf ...
  profgen emit --format go --go-package sandbox -o sandbox/filter.go rec.json
  profgen emit --format go-libseccomp -o sandbox/filter.go rec.json
  profgen emit --arch x86_64,aarch64 --arch-fill -o seccomp.json rec.json   # for both, from an x86_64 recording
  profgen emit --allow-incomplete -o seccomp.json lossy.json   # marked INCOMPLETE
  profgen emit --phase serving --format oci -o serving.json rec.json   # after start-up alone
  profgen emit --envelope reachable -o seccomp.json rec.json   # plus what the code can reach, less the dangerous
  profgen emit --format text --reachable rec.json   # which allowed syscalls the code can make
  profgen emit - < rec.json > seccomp.json
  profgen emit --format k8s -o app.yaml seccomp.json   # convert an existing OCI profile
  profgen emit --docker-default -o docker-default.json && profgen diff learned.json docker-default.json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := p.validate(cmd.OutOrStdout()); err != nil {
				return err
			}
			for _, f := range []string{"runtime", "default-action", "args", "max-values", "no-new-privileges", "phase", "envelope", "reachable"} {
				if cmd.Flags().Changed(f) {
					p.learnFlags = append(p.learnFlags, f)
				}
			}
			return runEmit(cmd.OutOrStdout(), &p, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&p.format, "format", emit.Formats[0].Name, "output format: "+strings.Join(append(emit.FormatNames(), emit.LandlockFormatNames()...), ", "))
	f.StringVarP(&p.output, "output", "o", "", "write to FILE, - for standard output (the default)")
	f.StringVar(&p.runtime, "runtime", "", "container runtime whose own syscalls to allow: runc, crun or none (default: the format's, runc for oci and k8s, none for the others)")
	f.StringVar(&p.defaultAction, "default-action", "errno", "action for everything not allowed: errno (EPERM), kill or log")
	f.StringVar(&p.args, "args", "shapes", "pin argument values: shapes, or none for names only")
	f.IntVar(&p.maxValues, "max-values", learn.DefaultMaxValues, "stop pinning an argument seen with more distinct values than this (at least 1)")
	f.BoolVar(&p.logFlag, "log-denials", false, "set SECCOMP_FILTER_FLAG_LOG so that denied syscalls are logged to audit (runc before 1.2 refuses such a profile)")
	f.StringVar(&p.goPackage, "go-package", emit.DefaultGoPackage, "package name of --format go and go-libseccomp output")
	f.BoolVar(&p.noNewPrivs, "no-new-privileges", false, "the container runs with no_new_privs (Kubernetes allowPrivilegeEscalation: false, docker --security-opt no-new-privileges): add only what --runtime runc calls then")
	f.StringVar(&p.name, "name", "", "metadata.name of --format k8s output (default: the workload and container of a recording merged by workload, else derived from the recorded command)")
	f.BoolVar(&p.allowIncomplete, "allow-incomplete", false, "emit from recordings that lost events, marking the output as incomplete")
	f.StringVar(&p.arch, "arch", "", "write the profile for these architectures: "+strings.Join(learn.TargetArches(), ", ")+" (comma-separated; default: the recording's)")
	f.BoolVar(&p.archFill, "arch-fill", false, "with --arch: allow what replaces a syscall an architecture lacks (openat for open)")
	f.BoolVar(&p.dockerDefault, "docker-default", false, "write Docker's default profile (for a container with Docker's default capabilities on this machine) instead of one learned from recordings")
	f.StringVar(&p.phase, "phase", "", "write the profile of one phase of a recording made with --ready alone: startup or serving (no runtime calls: the program loads it)")
	f.StringVar(&p.envelope, "envelope", "", "also allow what the recorded executables can reach but were never seen to call (profgen reachable): reachable (but not explain's dangerous syscalls) or reachable-all")
	f.BoolVar(&p.reachable, "reachable", false, "--format text: mark each syscall with whether the recorded executables' code can make it (profgen reachable; takes seconds)")
	f.BoolVarP(&p.quiet, "quiet", "q", false, "do not print the notes of the input recordings nor the warning about lost events")
	return cmd
}

// runEmit runs emit with validated params.
func runEmit(stdout io.Writer, p *emitParams, args []string) error {
	// The output first: an unwritable one fails before any work, and a
	// signal while the inputs are read removes its temporary file.
	if p.output == "" {
		p.output = fileio.Stdout
	}
	inputs := args
	if len(inputs) == 0 {
		inputs = []string{defaultRecording}
	}
	if err := checkOutputNotInput("emit", p.output, inputs); err != nil {
		return err
	}
	out, err := fileio.Create(p.output, stdout)
	if err != nil {
		return err
	}
	defer out.Abort()
	if p.llfmt != nil {
		return p.emitLandlock(out, args)
	}
	prof, loss, err := p.profile(args)
	if err != nil {
		return err
	}
	opts := emit.Options{
		Version: version, Log: p.logFlag, GoPackage: p.goPackage, Name: p.name,
		Compile: compileProfile, Runtime: p.rt, Serving: p.serving,
		Recording: p.merged, Dangerous: explain.DangerousWhy,
		Warn: func(msg string) { fmt.Fprintf(os.Stderr, "profgen: warning: %s\n", msg) },
	}
	if p.fmt.Landlock && p.merged != nil && p.merged.Sections[recording.LandlockKind] != nil {
		// The format applies the Landlock ruleset of the same recordings.
		if opts.Landlock, err = landlock.FromRecording(p.merged, landlock.Options{}); err != nil {
			return fmt.Errorf("%s: %w", strings.Join(inputs, ", "), err)
		}
		if !p.quiet {
			fmt.Fprintf(os.Stderr, "profgen: note: the %s output applies the Landlock ruleset of the recordings' landlock section too (emit --format landlock shows it)\n", p.format)
		}
	}
	if p.envelope != "" {
		if err := p.widen(prof, opts.Serving); err != nil {
			return err
		}
	}
	if p.reachable {
		if opts.Reachable, err = p.reachableColumn(); err != nil {
			return err
		}
	}
	if len(p.arches) > 0 {
		var warnings []string
		prof, warnings, err = learn.ForArches(prof, p.arches, learn.ArchOptions{Fill: p.archFill})
		if err != nil {
			return fmt.Errorf("--arch %s: %w", p.arch, err)
		}
		for _, w := range warnings {
			opts.Warn(w)
		}
		opts.Arches, opts.ArchNotes = p.arches[1:], warnings
		if opts.Serving != nil {
			if opts.Serving, _, err = learn.ForArches(opts.Serving, p.arches, learn.ArchOptions{Fill: p.archFill}); err != nil {
				return fmt.Errorf("--arch %s: serving phase: %w", p.arch, err)
			}
		}
	}
	if loss != "" {
		if !p.quiet {
			fmt.Fprintf(os.Stderr, "profgen: warning: %s; the output is marked incomplete\n", loss)
		}
		opts.Incomplete = "INCOMPLETE: " + loss
	}
	if err := p.fmt.Emit(out, prof, opts); err != nil {
		return fmt.Errorf("write %s: %w", p.output, err)
	}
	if err := out.Commit(); err != nil {
		return err
	}
	// One line for a person at a terminal; nothing for scripts.
	if !p.quiet && isTerminal(os.Stderr) {
		fmt.Fprintf(os.Stderr, "profgen: %s\n", wroteLine(p, prof))
	}
	return nil
}

// profile is the profile emit writes: learned from the recordings at
// paths, or converted from the OCI profiles there (merged as a union), and
// what the inputs lost ("" when nothing), which marks the output.
func (p *emitParams) profile(paths []string) (*learn.Profile, string, error) {
	if p.dockerDefault {
		if len(paths) > 0 {
			return nil, "", fmt.Errorf("--docker-default is the input: give no RECORDING (not %s)", paths[0])
		}
		data, unknown, err := explain.DockerDefault()
		if err != nil {
			return nil, "", err
		}
		prof, err := readers.ParseOCI(data)
		if err != nil {
			return nil, "", fmt.Errorf("docker's default profile: %w", err)
		}
		if len(unknown) > 0 && !p.quiet {
			fmt.Fprintf(os.Stderr, "profgen: note: docker's default profile: left out %d names this libseccomp does not know (runc drops them): %s\n", len(unknown), strings.Join(unknown, " "))
		}
		return p.convert("docker's default profile", []*learn.Profile{prof})
	}
	if len(paths) == 0 {
		paths = []string{defaultRecording}
	}
	if err := oneStdin(paths); err != nil {
		return nil, "", err
	}
	var recs []*recording.Recording
	var profs []*learn.Profile
	var recPath, profPath string
	for _, path := range paths {
		in, err := readInput(path)
		if err != nil {
			return nil, "", err
		}
		if in.rec != nil {
			recs, recPath = append(recs, in.rec), path
		} else {
			profs, profPath = append(profs, in.prof), path
		}
	}
	if len(recs) > 0 && len(profs) > 0 {
		return nil, "", fmt.Errorf("%s is a recording and %s an OCI profile: emit learns from recordings or converts profiles, not both (merge the profile as --base of a recording, or emit each)", recPath, profPath)
	}
	if len(profs) > 0 {
		return p.convert(profPath, profs)
	}
	rs, err := mergeRecordings(paths, recs)
	if err != nil {
		return nil, "", err
	}
	loss := lossText(rs.Recording)
	if loss != "" && !p.allowIncomplete {
		return nil, "", fmt.Errorf("%s; emit refuses it unless --allow-incomplete is given", loss)
	}
	rs.printNotes(p.quiet)
	if p.phase != "" {
		if !hasReadyPhases(rs.Recording) {
			return nil, "", fmt.Errorf("--phase %s: the recording has no phases startup and serving (record with --ready, or give profgen-runc io.profgen.ready)", p.phase)
		}
		ph, err := rs.Recording.Phase(p.phase)
		if p.phase == recording.PhaseServing {
			ph, p.servingNote, err = servingPhase(rs.Recording)
		}
		if err != nil {
			return nil, "", fmt.Errorf("--phase %s: %w", p.phase, err)
		}
		rs.Recording = ph
	}
	if w := rs.Workload; w != nil && p.name == "" {
		// A group of replicas (merge --by workload) names its profile.
		p.name = w.K8sName()
	}
	p.merged = rs.Recording
	def := p.def
	prof, err := rs.learn(learn.Options{
		Args: p.am, MaxValues: p.maxValues, Runtime: p.rt, DefaultAction: &def,
		NoNewPrivileges: p.noNewPrivs,
	})
	if err == nil && p.servingNote != "" {
		p.notePhase(prof)
	}
	if err != nil || p.phase != "" || !(p.fmt.Serving || p.fmt.Drops) || !hasPhase(rs.Recording, recording.PhaseServing) {
		return prof, loss, err
	}
	// The format offers EnterServing (or says what serving drops): the
	// serving phase's own profile, which no runtime loads. Recordings
	// whose serving phase cannot be learned (a merge with recordings
	// without phases) give the output without it, and say why.
	ph, note, err := servingPhase(rs.Recording)
	if err == nil {
		rs.Recording, p.servingNote = ph, note
		p.serving, err = rs.learn(learn.Options{
			Args: p.am, MaxValues: p.maxValues, Runtime: learn.LoaderNone, DefaultAction: &def,
		})
	}
	if err != nil {
		p.serving = nil
		if !p.quiet {
			fmt.Fprintf(os.Stderr, "profgen: note: the serving phase: %v: the %s output leaves it out\n", err, p.format)
		}
		return prof, loss, nil
	}
	if note != "" {
		p.notePhase(p.serving)
	}
	if !p.fmt.Serving {
		// The format says what serving drops (text); nothing stacks.
		return prof, loss, nil
	}
	// EnterServing loads the serving filter under the full one: that
	// filter must let seccomp(SECCOMP_SET_MODE_FILTER) through.
	if err := prof.Add(learn.Syscall{
		Name: "seccomp", Action: learn.Allow, Origin: learn.OriginRuntime,
		Rules:  []learn.Rule{{learn.MaskedEqual{Mask: 0xffffffff, Value: unix.SECCOMP_SET_MODE_FILTER}}},
		Reason: "EnterServing stacks the serving phase's filter",
	}); err != nil {
		return nil, "", fmt.Errorf("the serving phase: %w", err)
	}
	return prof, loss, nil
}

// convert is the profile of OCI profiles given to emit: their union,
// as is. Nothing is learned, so the flags that say how to learn are
// refused (path names one of the profiles), and neither the baseline nor
// a runtime's calls are added: the profile already says what it allows.
func (p *emitParams) convert(path string, profs []*learn.Profile) (*learn.Profile, string, error) {
	if len(p.learnFlags) > 0 {
		return nil, "", fmt.Errorf("--%s applies to recordings: %s is an OCI profile, which emit converts as is (no runtime calls, no baseline added)", p.learnFlags[0], path)
	}
	p.rt = learn.LoaderNone
	prof, err := learn.Merge(profs...)
	if err != nil {
		return nil, "", fmt.Errorf("profile %s: %w", path, err)
	}
	loss := ""
	if prof.Incomplete {
		loss = "a profile was learned from recordings that lost events (" + readers.IncompleteField + "): it may deny calls the target makes"
		if !p.allowIncomplete {
			return nil, "", fmt.Errorf("%s; emit refuses it unless --allow-incomplete is given", loss)
		}
	}
	return prof, loss, nil
}

// wroteLine says what emit wrote: the format, where, and how many
// syscalls the profile allows.
func wroteLine(p *emitParams, prof *learn.Profile) string {
	allowed := 0
	for _, s := range prof.Syscalls {
		if s.Action == learn.Allow || s.Action == learn.Log {
			allowed++
		}
	}
	where := p.output
	if where == fileio.Stdout {
		where = "standard output"
	}
	return fmt.Sprintf("wrote %s: %s profile for %s, %d syscalls allowed (runtime %s)", where, p.format, prof.Arch, allowed, p.rt)
}

// hasPhase reports whether r counted calls in the named phase.
func hasPhase(r *recording.Recording, name string) bool {
	for i := range r.Syscalls {
		if r.Syscalls[i].Phases[name] > 0 {
			return true
		}
	}
	return false
}

// hasReadyPhases reports whether r was recorded with readiness: calls
// counted in the startup or the serving phase, not only in run.
func hasReadyPhases(r *recording.Recording) bool {
	return hasPhase(r, recording.PhaseStartup) || hasPhase(r, recording.PhaseServing)
}

// emitLandlock writes the Landlock ruleset learned from the recordings'
// landlock sections (merged) in the chosen Landlock format.
func (p *emitParams) emitLandlock(out *fileio.File, paths []string) error {
	for _, f := range []struct {
		set  bool
		name string
	}{{p.dockerDefault, "docker-default"}, {p.arch != "", "arch"}, {p.phase != "", "phase"}, {len(p.learnFlags) > 0, "runtime, --default-action, --args, --max-values, --no-new-privileges"}} {
		if f.set {
			return fmt.Errorf("--%s applies to seccomp formats, not --format %s", f.name, p.format)
		}
	}
	if len(paths) == 0 {
		paths = []string{defaultRecording}
	}
	if err := oneStdin(paths); err != nil {
		return err
	}
	var recs []*recording.Recording
	for _, path := range paths {
		in, err := readInput(path)
		if err != nil {
			return err
		}
		if in.rec == nil {
			return fmt.Errorf("%s is a seccomp profile: --format %s learns from recordings", path, p.format)
		}
		recs = append(recs, in.rec)
	}
	rs, err := mergeRecordings(paths, recs)
	if err != nil {
		return err
	}
	if loss := lossText(rs.Recording); loss != "" {
		return fmt.Errorf("%s; --format %s cannot be marked incomplete", loss, p.format)
	}
	rs.printNotes(p.quiet)
	r, err := landlock.FromRecording(rs.Recording, landlock.Options{})
	if err != nil {
		return fmt.Errorf("%s: %w", strings.Join(paths, ", "), err)
	}
	warn := func(string) {}
	if !p.quiet {
		warn = func(msg string) { fmt.Fprintf(os.Stderr, "profgen: note: %s\n", msg) }
	}
	if err := p.llfmt.Write(out, r, emit.Options{Version: version, Warn: warn}); err != nil {
		return fmt.Errorf("write %s: %w", p.output, err)
	}
	return out.Commit()
}
