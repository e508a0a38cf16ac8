package emit

import (
	"fmt"
	"io"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/learn"
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
}

// Format is one output format of emit.
type Format struct {
	// Name is what `emit --format` takes.
	Name string
	// Help is a one-line description for --help.
	Help string
	// Write writes p in the format.
	Write func(w io.Writer, p *learn.Profile, opts Options) error
}

// Formats is the table of output formats, in the order --help lists them.
// The first is the default.
var Formats = []Format{
	{"oci", "runtime-spec JSON: docker, podman, Kubernetes, runc, crun", writeOCIFormat},
	{"k8s", "Security Profiles Operator SeccompProfile YAML (--name)", WriteK8s},
	{"systemd", "systemd drop-in, SystemCallFilter= (argument rules dropped)", WriteSystemd},
	{"bpf", "compiled filter, raw struct sock_filter: bwrap --seccomp FD", WriteBPF},
	{"text", "a table of the syscalls with rules, coverage and origin", func(w io.Writer, p *learn.Profile, _ Options) error { return WriteText(w, p) }},
	{"c", "C source for libseccomp; -DPROFGEN_MAIN builds a launcher", WriteC},
	{"go", "Go source without cgo, filter embedded, func Install() error", WriteGo},
	{"go-libseccomp", "Go source using libseccomp-golang (cgo), func LoadFilter()", WriteGoLibseccomp},
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
// line, indented.
func FormatHelp() string {
	var b strings.Builder
	width := 0
	for _, f := range Formats {
		width = max(width, len(f.Name))
	}
	for _, f := range Formats {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, f.Name, f.Help)
	}
	return b.String()
}

func writeOCIFormat(w io.Writer, p *learn.Profile, opts Options) error {
	doc, err := OCI(p, ociOptions(opts))
	if err != nil {
		return err
	}
	return WriteOCI(w, doc)
}

// ociOptions are the OCIOptions opts ask for.
func ociOptions(opts Options) OCIOptions {
	var o OCIOptions
	if opts.Log {
		o.Flags = append(o.Flags, "SECCOMP_FILTER_FLAG_LOG")
	}
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
