package emit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/landlock"
	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/readers"
	"github.com/profgen/profgen/recording"
)

// Options adjust every format's output; each format reads the fields it
// needs and ignores the others.
type Options struct {
	// Version is profgen's version, named in the header of sources.
	Version string
	// Log sets SECCOMP_FILTER_FLAG_LOG where the format can say so (oci,
	// k8s, c, go, go-libseccomp), so that denials are logged to audit.
	Log bool
	// GoPackage is the package of the go and go-libseccomp outputs;
	// empty means DefaultGoPackage.
	GoPackage string
	// Name is metadata.name of the k8s output; empty means one derived
	// from the profile's recorded command (K8sName).
	Name string
	// Compile compiles a profile into the classic-BPF program the kernel
	// loads. The bpf and go formats need it; emit does not compile
	// itself, so that it never imports the compiler's dependencies
	// (cmd/profgen passes the project's one compiler).
	Compile func(*learn.Profile) ([]unix.SockFilter, error)
	// Warn, when not nil, receives one line per thing a format could not
	// express (systemd's dropped argument rules).
	Warn func(string)
	// Arches are further architectures the output is for, besides the
	// profile's own (emit --arch x86_64,aarch64; learn.ForArches made the
	// profile): the oci and k8s formats list them, the others, which
	// hold one architecture's filter, refuse them (Format.MultiArch).
	Arches []abi.Arch
	// ArchNotes say what writing the profile for another architecture
	// left out, replaced or allowed by name (learn.ForArch's warnings).
	// Formats with comments show them as the profile's notes; the oci
	// format, which has none, writes them in the ArchNotesField field.
	ArchNotes []string
	// Runtime is the container runtime whose own calls after loading
	// the filter were added to the profile (learn.Options.Runtime); the
	// text format says which. Empty when not known.
	Runtime learn.Loader
	// Incomplete, when not empty, marks the output as learned from
	// recordings that lost events: Format.Emit writes it first, as a
	// comment, and the oci format as the readers.IncompleteField field.
	// It is profgen's own text, never a recording's.
	Incomplete string
	// Serving is the profile of the serving phase alone (learned from
	// recording.Phase(recording.PhaseServing), with no runtime's calls),
	// for a recording with phases; nil otherwise. The c, go and
	// go-libseccomp outputs then offer profgen_enter_serving or
	// EnterServing, which stacks its filter on the one loaded first
	// (Format.Serving); the text format says what it drops
	// (Format.Drops); the other formats ignore it.
	Serving *learn.Profile
	// Recording is the recordings (merged) the profile was learned from,
	// nil for a profile converted from an OCI one: the text format shows
	// each recorded syscall's evidence (first seen, phases, executables).
	Recording *recording.Recording
	// Dangerous says why a syscall is dangerous, "" when it is not: the
	// text format names the dangerous syscalls the serving phase drops.
	// cmd/profgen passes explain's list (explain.DangerousWhy); nil
	// judges none dangerous.
	Dangerous func(name string) string
	// Landlock, when not nil, is a Landlock ruleset the formats that
	// carry both kinds apply together with the seccomp filter: c and go
	// (the recording has a landlock section). The others refuse it.
	Landlock *landlock.Ruleset
	// Reachable, when not nil, says for a syscall whether the recorded
	// executables' code can make it (emit --reachable: "yes", "no",
	// "kernel" for a call the kernel makes itself, "start" for the execve
	// that started the program); the text format shows
	// it in a REACHABLE column, the others ignore it.
	Reachable func(name string) string
}

// Format is one output format of emit.
type Format struct {
	// Name is what `emit --format` takes.
	Name string
	// Help is a one-line description for --help.
	Help string
	// Write writes p in the format.
	Write func(w io.Writer, p *learn.Profile, opts Options) error
	// Comment turns Options.Incomplete into the format's comment line,
	// written before everything else; nil when the format marks its
	// output itself (Marks) or cannot carry a mark at all.
	Comment func(mark string) string
	// Marks says that Write itself marks the output with
	// Options.Incomplete (oci: a field).
	Marks bool
	// MultiArch says that the format can hold one profile for several
	// architectures (Options.Arches).
	MultiArch bool
	// Binary says that the output is not text (bpf): the CLI refuses to
	// write it to a terminal.
	Binary bool
	// Landlock says that the format applies Options.Landlock with the
	// filter (c, go); Emit refuses a ruleset for the others.
	Landlock bool
	// Runtime is the container runtime whose own calls the profile
	// allows unless emit --runtime says otherwise: runc for the formats
	// an OCI runtime loads (oci, k8s), none for the others, which a
	// program, systemd or bwrap loads and where nothing calls runc's
	// capget, capset, chdir, getdents64 ...
	Runtime learn.Loader
	// Serving says that the output offers the program a function that
	// stacks the serving phase's filter (Options.Serving) once its
	// start-up is done.
	Serving bool
	// Drops says that the output tells what the serving phase's filter
	// (Options.Serving) drops from the whole profile (text).
	Drops bool
}

// Markable reports whether f can say that its output is incomplete.
func (f Format) Markable() bool { return f.Marks || f.Comment != nil }

// Emit writes p in format f, marked as incomplete first when
// opts.Incomplete is set.
func (f Format) Emit(w io.Writer, p *learn.Profile, opts Options) error {
	if len(opts.Arches) > 0 && !f.MultiArch {
		return fmt.Errorf("format %s holds one architecture: write one output per architecture", f.Name)
	}
	if opts.Landlock != nil && !f.Landlock {
		return fmt.Errorf("format %s does not carry a Landlock ruleset (c and go do; --format landlock writes it alone)", f.Name)
	}
	if opts.Incomplete != "" && !f.Marks {
		if f.Comment == nil {
			return fmt.Errorf("format %s cannot be marked incomplete", f.Name)
		}
		if _, err := io.WriteString(w, f.Comment(opts.Incomplete)); err != nil {
			return err
		}
	}
	return f.Write(w, p, opts)
}

func hashComment(mark string) string  { return "# " + mark + "\n" }
func slashComment(mark string) string { return "// " + mark + "\n\n" }
func cMark(mark string) string        { return "/* " + mark + " */\n" }

// Formats is the table of output formats, in the order --help lists them.
// The first is the default.
var Formats = []Format{
	{Name: "oci", Help: "runtime-spec JSON: docker, podman, Kubernetes, runc, crun", Write: writeOCIFormat, Marks: true, MultiArch: true, Runtime: learn.LoaderRunc},
	{Name: "k8s", Help: "Security Profiles Operator SeccompProfile YAML (--name)", Write: WriteK8s, Comment: hashComment, MultiArch: true, Runtime: learn.LoaderRunc},
	{Name: "systemd", Help: "systemd drop-in, SystemCallFilter= (argument rules dropped)", Write: WriteSystemd, Comment: hashComment, Runtime: learn.LoaderNone},
	{Name: "bpf", Help: "compiled filter, raw struct sock_filter: bwrap --seccomp FD", Write: WriteBPF, Binary: true, Runtime: learn.LoaderNone},
	{Name: "text", Help: "a table of the syscalls with rules, coverage and origin", Write: writeTextFormat, Comment: hashComment, Runtime: learn.LoaderNone, Drops: true},
	{Name: "c", Help: "C source for libseccomp; -DPROFGEN_MAIN builds a launcher", Write: WriteC, Comment: cMark, Runtime: learn.LoaderNone, Landlock: true, Serving: true},
	{Name: "go", Help: "Go source without cgo, filter embedded, func Install() error", Write: WriteGo, Comment: slashComment, Runtime: learn.LoaderNone, Landlock: true, Serving: true},
	{Name: "go-libseccomp", Help: "Go source using libseccomp-golang (cgo), func LoadFilter()", Write: WriteGoLibseccomp, Comment: slashComment, Runtime: learn.LoaderNone, Serving: true},
}

// FormatNames lists the names of Formats, in order.
func FormatNames() []string {
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = f.Name
	}
	return names
}

// LookupFormat returns the format called name.
func LookupFormat(name string) (Format, error) {
	for _, f := range Formats {
		if f.Name == name {
			return f, nil
		}
	}
	return Format{}, fmt.Errorf("unknown format %q (want %s)", name, strings.Join(FormatNames(), ", "))
}

// FormatHelp is the list of formats for a command's long help, one per
// line, indented, with the runtime whose calls each adds by default.
func FormatHelp() string {
	var b strings.Builder
	width := 0
	for _, f := range Formats {
		width = max(width, len(f.Name))
	}
	for _, f := range Formats {
		fmt.Fprintf(&b, "  %-*s  %s (--runtime %s)\n", width, f.Name, f.Help, f.Runtime)
	}
	return b.String()
}

func writeOCIFormat(w io.Writer, p *learn.Profile, opts Options) error {
	doc, err := OCI(p, ociOptions(opts))
	if err != nil {
		return err
	}
	if opts.Incomplete == "" && len(opts.ArchNotes) == 0 {
		return WriteOCI(w, doc)
	}
	return writeMarkedOCI(w, doc, opts.Incomplete, opts.ArchNotes)
}

// writeMarkedOCI writes doc with readers.IncompleteField (when mark is
// set) and ArchNotesField (when notes are given) first: runc, crun, Docker
// and podman ignore fields they do not know; readers.ParseOCI reports the
// first.
func writeMarkedOCI(w io.Writer, doc *specs.LinuxSeccomp, mark string, notes []string) error {
	var buf bytes.Buffer
	if err := WriteOCI(&buf, doc); err != nil {
		return err
	}
	rest, ok := bytes.CutPrefix(buf.Bytes(), []byte("{\n"))
	if !ok {
		return errors.New("OCI output does not start with {")
	}
	if _, err := io.WriteString(w, "{\n"); err != nil {
		return err
	}
	if mark != "" {
		field, err := json.Marshal(mark)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "  %q: %s,\n", readers.IncompleteField, field); err != nil {
			return err
		}
	}
	if len(notes) > 0 {
		field, err := json.MarshalIndent(notes, "  ", "  ")
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "  %q: %s,\n", ArchNotesField, field); err != nil {
			return err
		}
	}
	_, err := w.Write(rest)
	return err
}

// ociOptions are the OCIOptions opts ask for.
func ociOptions(opts Options) OCIOptions {
	var o OCIOptions
	if opts.Log {
		o.Flags = append(o.Flags, specs.LinuxSeccompFlagLog)
	}
	o.Arches = opts.Arches
	return o
}

// compile runs opts.Compile, which the caller must have set.
func compile(p *learn.Profile, opts Options) ([]unix.SockFilter, error) {
	if opts.Compile == nil {
		return nil, fmt.Errorf("no filter compiler given (Options.Compile)")
	}
	prog, err := opts.Compile(p)
	if err != nil {
		return nil, err
	}
	if len(prog) == 0 {
		return nil, fmt.Errorf("compiler returned an empty program")
	}
	return prog, nil
}
