package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"

	"github.com/profgen/profgen/argspec"
	"github.com/profgen/profgen/explain"
	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/reachable"
	"github.com/profgen/profgen/recording"
)

type reachableParams struct {
	json bool
	// root is the filesystem the executables are analysed in (--root):
	// a container's rootfs when its bundle is gone.
	root string
	// noCache analyses every file again (--no-cache), for timing.
	noCache bool
}

func newReachableCmd() *cobra.Command {
	var p reachableParams
	cmd := &cobra.Command{
		Use:   "reachable [--json] REC|EXE...",
		Short: "Show the syscalls a program's code can make, and those its recording never saw",
		Long: `reachable computes a static upper bound of the syscalls a program can make:
the syscall instructions of its executable, of the shared libraries the
dynamic loader would map for it (DT_NEEDED, RUNPATH, the system's library
paths), of the loader and of the vDSO, libraries followed through their own
call graph from what the program imports (docs/reachable.md).

For a recording (told apart from an executable by its content), the
executables analysed are those its evidence names (the "exes" of its
syscalls, format version 3, eBPF backend); for a container recorded through
profgen-runc, inside the container's rootfs while its bundle is still on the
host (else give --root DIR with the image's filesystem). Per recording it
prints:

  reachable   the syscalls the code can make, against all native syscalls;
  unseen      reachable but never recorded: the dangerous ones (explain's
              list) first, then grouped by what programs usually make them
              for (file writes, process control, network ...);
  recorded but not reachable
              what the analysis missed, or what the kernel makes itself
              (restart_syscall): listed, never hidden.

Libraries loaded at run time with dlopen(3) (PAM and NSS modules,
plug-ins) are followed from a recording's landlock section (ebpf backend):
the shared objects each executable read that the loader did not map are
analysed, every exported function a root ("loadedAtRunTime"). Those loaded
only on paths the drive did not take are not, nor, without a recording
with file paths (EXE arguments, the log backend, --landlock=false), any:
a note names the code that imports dlopen or dlmopen.

EXE arguments are analysed with every recording given (a recording that
names no executable needs them), or reported on their own without one.
What could not be analysed (a non-ELF file, a missing library, an
executable from a container's volume) is a one-line note, as is a stripped
or static binary, analysed differently; a recording that names no
executable, or inputs of which nothing could be analysed, are errors. Analyses are cached by build-id under
$XDG_CACHE_HOME/profgen/reachable (--no-cache analyses again).

Exit status:
  0  analysed (notes may say what was not)
  1  nothing to analyse: bad input, a recording without executables, no ELF`,
		Example: `  profgen reachable rec.json
  profgen reachable --json rec.json | jq -r '.[0].unseen[].name'
  profgen reachable /usr/bin/redis-server
  profgen reachable --root ./rootfs container-rec.json   # its bundle is gone
  profgen reachable old-rec.json ./server   # a recording without evidence`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return errors.New("reachable needs at least one REC (a recording) or EXE (an executable)")
			}
			return runReachable(cmd.OutOrStdout(), &p, args)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&p.json, "json", false, "print the reports as a JSON array")
	f.StringVar(&p.root, "root", "", "analyse the executables inside this directory (a container's or image's root filesystem)")
	f.BoolVar(&p.noCache, "no-cache", false, "analyse every file again instead of reading cached analyses")
	return cmd
}

// reachReport is what reachable says about one recording, or about the
// executables given alone.
type reachReport struct {
	// Recording is the recording's path; empty for executables alone.
	Recording string `json:"recording,omitempty"`
	// Root is the filesystem the executables were analysed in, when not
	// the host's.
	Root     string               `json:"root,omitempty"`
	Programs []*reachable.Program `json:"programs"`
	// Reachable is the union of the programs' syscalls.
	Reachable []string `json:"reachable"`
	// Native counts the native architecture's syscalls.
	Native int `json:"nativeSyscalls"`
	// Recorded are the recording's syscalls (none without a recording).
	Recorded []string `json:"recorded,omitempty"`
	// Unseen are reachable syscalls the recording never saw.
	Unseen []unseenCall `json:"unseen,omitempty"`
	// NotReachable are recorded syscalls the analysis did not find.
	NotReachable []notReached `json:"recordedNotReachable,omitempty"`
	// Notes say what was not analysed and why.
	Notes []string `json:"notes,omitempty"`
	// Seconds is how long the analysis took.
	Seconds float64 `json:"seconds"`
}

// unseenCall is a reachable syscall no recorded call made.
type unseenCall struct {
	Name    string `json:"name"`
	Purpose string `json:"purpose"`
	// Dangerous says why explain calls it dangerous, if it does.
	Dangerous string `json:"dangerous,omitempty"`
}

// notReached is a recorded syscall the analysis did not find reachable.
type notReached struct {
	Name string `json:"name"`
	// KernelMade says why the kernel makes it itself, when it does.
	KernelMade string `json:"kernelMade,omitempty"`
	// Start says that it is the execve that started the program, made
	// before the program's code ran (startExec).
	Start string `json:"start,omitempty"`
}

// errNoExes is the error of a recording whose evidence names no
// executable.
var errNoExes = errors.New("the recording names no executable (recorded before format version 3, or by the log backend)")

// noRootError is a container recording whose root filesystem is not on
// the host, with reachable's advice; diff --reachable gives its own.
type noRootError struct{ err error }

func (e *noRootError) Error() string {
	return e.err.Error() + "; give --root DIR with the image's filesystem, or the executables as EXE arguments"
}

func (e *noRootError) Unwrap() error { return e.err }

// reachInput is one argument of reachable: a recording or an executable.
type reachInput struct {
	path string
	rec  *recording.Recording
}

func runReachable(stdout io.Writer, p *reachableParams, args []string) error {
	var recs []reachInput
	var exes []string
	for _, a := range args {
		in, err := readReachInput(a)
		if err != nil {
			return err
		}
		if in.rec != nil {
			recs = append(recs, in)
		} else {
			exes = append(exes, in.path)
		}
	}
	opt := reachable.Options{Root: p.root}
	if p.noCache {
		opt.CacheDir = "-"
	}
	var reports []*reachReport
	if len(recs) == 0 {
		r, err := analyzeReachable(nil, exes, opt)
		if err != nil {
			return err
		}
		reports = append(reports, r)
	}
	for _, in := range recs {
		r, err := analyzeReachable(in.rec, exes, opt)
		if errors.Is(err, errNoExes) {
			return fmt.Errorf("%s: %w: give the executables as EXE arguments", in.path, err)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", in.path, err)
		}
		r.Recording = in.path
		reports = append(reports, r)
	}
	if p.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(reports)
	}
	for i, r := range reports {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		if err := writeReachText(stdout, r); err != nil {
			return err
		}
	}
	return nil
}

// readReachInput tells a recording from an executable (executableArg): a
// JSON document that does not read as a recording is an error.
func readReachInput(path string) (reachInput, error) {
	exe, ok, err := executableArg(path)
	if err != nil || ok {
		return reachInput{path: exe}, err
	}
	rec, err := recording.ReadFile(path)
	if err != nil {
		return reachInput{}, err
	}
	return reachInput{path: path, rec: rec}, nil
}

// executableArg says whether the argument path names an executable rather
// than a JSON document, and returns its path: an ELF file is an executable,
// a file that starts as a JSON object is not, anything else is (the
// analysis notes it as not ELF). A name without a slash that is no file is
// looked up in $PATH.
func executableArg(path string) (string, bool, error) {
	fh, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) && !strings.Contains(path, "/") {
		if lp, lerr := exec.LookPath(path); lerr == nil {
			return lp, true, nil
		}
	}
	if err != nil {
		return "", false, fmt.Errorf("%s: %w", path, errors.Unwrap(err))
	}
	head := make([]byte, 512)
	n, _ := io.ReadFull(fh, head)
	fh.Close()
	head = head[:n]
	if bytes.HasPrefix(head, []byte("\x7fELF")) {
		return path, true, nil
	}
	if t := bytes.TrimSpace(head); len(t) > 0 && t[0] == '{' {
		return path, false, nil
	}
	return path, true, nil
}

// analyzeReachable analyses the executables of rec (nil: exes alone) and
// exes, and compares what they can call with what rec recorded.
func analyzeReachable(rec *recording.Recording, exes []string, opt reachable.Options) (*reachReport, error) {
	start := time.Now()
	r := &reachReport{Native: nativeSyscalls()}
	var recorded map[string]bool
	// fromRec are the executables the recording names: only their file
	// reads are known (an EXE argument's are not).
	fromRec := map[string]bool{}
	if rec != nil {
		if rec.Arch != "amd64" {
			return nil, fmt.Errorf("a recording of %s: only x86_64 (amd64) programs are analysed (docs/reachable.md says what aarch64 needs)", rec.Arch)
		}
		named, other := recordedExes(rec)
		if other > 0 {
			r.Notes = append(r.Notes, fmt.Sprintf("%d more executable(s) made calls than the recording names (at most %d per syscall): not analysed", other, recording.MaxExes))
		}
		if len(named) == 0 && len(exes) == 0 {
			return nil, errNoExes
		}
		if rec.Container != nil && opt.Root == "" && len(named) > 0 {
			root, err := containerRoot(rec.Container)
			if err != nil {
				if len(exes) == 0 {
					return nil, &noRootError{err}
				}
				r.Notes = append(r.Notes, fmt.Sprintf("%v: its executables %s not analysed", err, strings.Join(named, ", ")))
				named = nil
			} else {
				opt.Root = root
			}
		}
		for _, e := range named {
			fromRec[e] = true
		}
		exes = append(named, exes...)
		recorded = map[string]bool{}
		for _, s := range rec.Syscalls {
			recorded[s.Name] = true
			r.Recorded = append(r.Recorded, s.Name)
		}
		sort.Strings(r.Recorded)
	}
	if opt.Root != "" && opt.Root != "/" {
		r.Root = opt.Root
	}
	reads, err := readsOf(rec)
	if err != nil {
		return nil, err
	}
	if reads.unresolved > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d file open(s) whose path the recorder could not resolve: a library loaded through them is not followed", reads.unresolved))
	}
	reach := map[string]bool{}
	analysed := 0
	for _, exe := range exes {
		opt := opt
		opt.Loaded, opt.LoadedKnown = reads.of(exe, r.Root == ""), reads.known && fromRec[exe]
		prog, err := reachable.Analyze(exe, opt)
		switch {
		case errors.Is(err, fs.ErrNotExist) && r.Root != "":
			// A container's executable from a volume or bind mount is
			// not in its root filesystem as the host sees it.
			r.Notes = append(r.Notes, fmt.Sprintf("%s: not analysed: not in the root filesystem %s (a volume or bind mount of the container is not visible there; give --root DIR or the executable as EXE)", exe, r.Root))
			continue
		case errors.Is(err, fs.ErrNotExist):
			// Only a recording's executables can be missing: EXE
			// arguments were opened already.
			r.Notes = append(r.Notes, fmt.Sprintf("%s: not analysed: no such file (removed since the recording?)", exe))
			continue
		}
		if err != nil {
			return nil, err
		}
		r.Programs = append(r.Programs, prog)
		r.Notes = append(r.Notes, prog.Notes...)
		if len(prog.Objects) > 0 {
			analysed++
		}
		for _, s := range prog.Syscalls {
			reach[s] = true
		}
	}
	if analysed == 0 {
		return nil, fmt.Errorf("nothing could be analysed: %s", strings.Join(r.Notes, "; "))
	}
	r.Reachable = slices.Sorted(maps.Keys(reach))
	if rec != nil {
		for _, s := range r.Reachable {
			if !recorded[s] {
				r.Unseen = append(r.Unseen, unseenCall{Name: s, Purpose: argspec.Purpose(s), Dangerous: explain.DangerousWhy(s)})
			}
		}
		for _, s := range r.Recorded {
			if !reach[s] {
				r.NotReachable = append(r.NotReachable, notReached{Name: s, KernelMade: reachable.KernelMade(s), Start: startExec(s)})
			}
		}
	}
	r.Seconds = time.Since(start).Seconds()
	return r, nil
}

// recordedReads are the regular files a recording saw its executables
// read (its landlock section's read_file accesses that succeeded): where
// the libraries they loaded at run time with dlopen(3) are found.
type recordedReads struct {
	// known says the recording has a landlock section.
	known bool
	// byExe holds the files each executable an access names read.
	byExe map[string][]string
	// others holds the files read by more executables than an access
	// names: they are given to every program.
	others []string
	// unresolved counts opens whose path was not resolved.
	unresolved uint64
}

// readsOf returns what rec (nil: none) saw its executables read.
func readsOf(rec *recording.Recording) (*recordedReads, error) {
	rr := &recordedReads{byExe: map[string][]string{}}
	if rec == nil {
		return rr, nil
	}
	raw, ok := rec.Sections[recording.LandlockKind]
	if !ok {
		return rr, nil
	}
	sec, err := recording.ParseLandlock(raw)
	if err != nil {
		return nil, fmt.Errorf("sections.%s: %w", recording.LandlockKind, err)
	}
	rr.known = true
	for _, a := range sec.Accesses {
		if a.Right != "read_file" || a.OK == 0 || a.Type != recording.FileReg {
			continue
		}
		for _, e := range a.Exes {
			rr.byExe[e] = append(rr.byExe[e], a.Path)
		}
		if a.OtherExes > 0 || len(a.Exes) == 0 {
			rr.others = append(rr.others, a.Path)
		}
	}
	for _, u := range sec.Unresolved {
		if strings.HasPrefix(u.Syscall, "open") {
			rr.unresolved += u.Count
		}
	}
	return rr, nil
}

// of returns the files exe read: those the accesses name it for (by its
// path, or on the host by the file it resolves to, as the recording names
// executables) and those of executables beyond the ones named.
func (rr *recordedReads) of(exe string, host bool) []string {
	files, ok := rr.byExe[exe]
	if !ok && host {
		if real, err := filepath.EvalSymlinks(exe); err == nil {
			if abs, err := filepath.Abs(real); err == nil {
				files = rr.byExe[abs]
			}
		}
	}
	return append(slices.Clip(files), rr.others...)
}

// startExec says why a recorded execve the program's code cannot make is
// there all the same: a recording counts the execve that started the
// program, which profgen's launcher or the container runtime made; "" for
// other syscalls.
func startExec(name string) string {
	if name != "execve" {
		return ""
	}
	return "the execve that started the program, made before its code ran (by profgen's launcher or the container runtime)"
}

// recordedExes returns the executables rec's evidence names, and how many
// more made calls than it names (at most per syscall).
func recordedExes(rec *recording.Recording) ([]string, int) {
	set := map[string]bool{}
	other := 0
	for _, s := range rec.Syscalls {
		for _, e := range s.Exes {
			set[e] = true
		}
		other = max(other, s.OtherExes)
	}
	return slices.Sorted(maps.Keys(set)), other
}

// containerRoot returns the root filesystem of a recorded container, from
// its bundle's config.json, or why it is not on the host.
func containerRoot(c *recording.Container) (string, error) {
	name := filepath.Join(c.Bundle, "config.json")
	b, err := os.ReadFile(name)
	if err != nil {
		return "", fmt.Errorf("container %s: its bundle's %s is not on the host (%v): the image's root filesystem is not reachable", c.ID, name, errors.Unwrap(err))
	}
	var spec specs.Spec
	if err := json.Unmarshal(b, &spec); err != nil {
		return "", fmt.Errorf("container %s: %s: %w", c.ID, name, err)
	}
	if spec.Root == nil || spec.Root.Path == "" {
		return "", fmt.Errorf("container %s: %s names no root.path", c.ID, name)
	}
	root := spec.Root.Path
	if !filepath.IsAbs(root) {
		root = filepath.Join(c.Bundle, root)
	}
	ents, err := os.ReadDir(root)
	if err != nil || len(ents) == 0 {
		return "", fmt.Errorf("container %s: its root filesystem %s is empty or gone (the engine unmounts it when the container stops)", c.ID, root)
	}
	return root, nil
}

// nativeSyscalls counts the syscalls of the native x86_64 ABI libseccomp
// knows.
func nativeSyscalls() int {
	n := 0
	for nr := 0; nr < 1024; nr++ {
		if name, err := abi.SyscallName("amd64", nr); err == nil && !strings.HasPrefix(name, "UNKNOWN") {
			n++
		}
	}
	return n
}

func writeReachText(w io.Writer, r *reachReport) error {
	if r.Recording != "" {
		fmt.Fprintf(w, "recording %s\n", r.Recording)
	}
	if r.Root != "" {
		fmt.Fprintf(w, "root filesystem: %s\n", r.Root)
	}
	for _, p := range r.Programs {
		incomplete := ""
		if !p.Complete {
			incomplete = " (incomplete: see the notes)"
		}
		fmt.Fprintf(w, "program %s: %d syscalls reachable, %d objects, %d syscall sites undetermined%s\n", p.Path, len(p.Syscalls), len(p.Objects), p.Undetermined, incomplete)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	fmt.Fprintf(w, "reachable: %d of %d x86_64 syscalls (analysed in %.2fs)\n", len(r.Reachable), r.Native, r.Seconds)
	if r.Recording == "" {
		return writeWrapped(w, "  ", r.Reachable)
	}
	fmt.Fprintf(w, "recorded: %d\n", len(r.Recorded))
	fmt.Fprintf(w, "unseen (reachable, never recorded): %d\n", len(r.Unseen))
	if err := writeUnseen(w, r.Unseen); err != nil {
		return err
	}
	fmt.Fprintf(w, "recorded but not reachable: %d\n", len(r.NotReachable))
	for _, n := range r.NotReachable {
		why := "not found by the analysis (a gap in it: docs/reachable.md)"
		switch {
		case n.KernelMade != "":
			why = "kernel-made: " + n.KernelMade
		case n.Start != "":
			why = n.Start
		}
		fmt.Fprintf(w, "  %s: %s\n", n.Name, why)
	}
	return nil
}

// writeUnseen writes syscalls with what reachable says of them: the
// dangerous ones first, each with why, then the others grouped by purpose,
// the largest group first.
func writeUnseen(w io.Writer, calls []unseenCall) error {
	var dangerous []unseenCall
	for _, u := range calls {
		if u.Dangerous != "" {
			dangerous = append(dangerous, u)
		}
	}
	if len(dangerous) > 0 {
		fmt.Fprintf(w, "  dangerous (%d):\n", len(dangerous))
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, u := range dangerous {
		fmt.Fprintf(tw, "    %s\t%s\n", u.Name, u.Dangerous)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	byPurpose := map[string][]string{}
	for _, u := range calls {
		if u.Dangerous == "" {
			byPurpose[u.Purpose] = append(byPurpose[u.Purpose], u.Name)
		}
	}
	purposes := make([]string, 0, len(byPurpose))
	for p := range byPurpose {
		purposes = append(purposes, p)
	}
	slices.SortFunc(purposes, func(a, b string) int {
		if c := len(byPurpose[b]) - len(byPurpose[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	for _, p := range purposes {
		fmt.Fprintf(w, "  %s (%d):\n", p, len(byPurpose[p]))
		if err := writeWrapped(w, "    ", byPurpose[p]); err != nil {
			return err
		}
	}
	return nil
}

// writeWrapped writes names comma-separated, in lines of at most about 100
// characters, each indented.
func writeWrapped(w io.Writer, indent string, names []string) error {
	line := indent
	for i, n := range names {
		if i < len(names)-1 {
			n += ","
		}
		if len(line) > len(indent) && len(line)+1+len(n) > 100 {
			if _, err := fmt.Fprintln(w, line); err != nil {
				return err
			}
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += n
	}
	if len(line) > len(indent) {
		_, err := fmt.Fprintln(w, line)
		return err
	}
	return nil
}

// emit --envelope's values.
const (
	envelopeReachable = "reachable"
	envelopeAll       = "reachable-all"
)

// widen applies emit --envelope to prof and to serving (the serving
// phase's profile, when the format offers it): the recorded executables
// are analysed and what they reach is allowed, less explain's dangerous
// syscalls unless --envelope reachable-all.
func (p *emitParams) widen(prof, serving *learn.Profile) error {
	r, err := p.analysis("--envelope " + p.envelope)
	if err != nil {
		return err
	}
	except := explain.DangerousWhy
	if p.envelope == envelopeAll {
		except = nil
	}
	for _, pr := range []*learn.Profile{prof, serving} {
		if pr != nil {
			learn.Envelope(pr, r.Reachable, except)
		}
	}
	return nil
}

// analysis analyses the recorded executables once for emit's --envelope
// and --reachable (flag names the one asking, for errors), printing what
// could not be analysed.
func (p *emitParams) analysis(flag string) (*reachReport, error) {
	if p.reach != nil {
		return p.reach, nil
	}
	if p.merged == nil {
		return nil, fmt.Errorf("%s applies to recordings", flag)
	}
	r, err := analyzeReachable(p.merged, nil, reachable.Options{})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	if !p.quiet {
		for _, n := range r.Notes {
			fmt.Fprintf(os.Stderr, "profgen: note: %s: %s\n", flag, n)
		}
	}
	p.reach = r
	return r, nil
}

// reachableColumn is emit --reachable's column of the text format: yes,
// no, or kernel for a call the kernel makes itself.
func (p *emitParams) reachableColumn() (func(string) string, error) {
	r, err := p.analysis("--reachable")
	if err != nil {
		return nil, err
	}
	return func(name string) string {
		switch {
		case slices.Contains(r.Reachable, name):
			return "yes"
		case reachable.KernelMade(name) != "":
			return "kernel"
		case startExec(name) != "":
			return "start"
		}
		return "no"
	}, nil
}

// markReachable is explain --reachable: the recordings and executables of
// args are analysed (as profgen reachable does) and each seccomp report's
// allowed syscalls marked against the union of what they can make.
func markReachable(args []string, reports []*explain.Report) error {
	var recs []reachInput
	var exes []string
	for _, a := range args {
		in, err := readReachInput(a)
		if err != nil {
			return fmt.Errorf("--reachable: %w", err)
		}
		if in.rec != nil {
			recs = append(recs, in)
		} else {
			exes = append(exes, in.path)
		}
	}
	if len(recs) == 0 {
		recs = []reachInput{{}}
	}
	reach := map[string]bool{}
	var programs []string
	for _, in := range recs {
		r, err := analyzeReachable(in.rec, exes, reachable.Options{})
		if err != nil {
			if in.path != "" {
				return fmt.Errorf("--reachable %s: %w", in.path, err)
			}
			return fmt.Errorf("--reachable: %w", err)
		}
		for _, n := range r.Notes {
			fmt.Fprintf(os.Stderr, "profgen: note: --reachable: %s\n", n)
		}
		for _, pr := range r.Programs {
			if !slices.Contains(programs, pr.Path) {
				programs = append(programs, pr.Path)
			}
		}
		for _, s := range r.Reachable {
			reach[s] = true
		}
	}
	for _, rep := range reports {
		if rep.Kind != explain.KindLandlock {
			rep.MarkReachable(programs, func(s string) bool { return reach[s] }, reachable.KernelMade)
		}
	}
	return nil
}
