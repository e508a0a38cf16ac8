package emit

import (
	"fmt"
	"go/format"
	"go/token"
	"io"

	"github.com/profgen/profgen/learn"
)

// DefaultGoPackage is the package name WriteGo's callers use by default.
const DefaultGoPackage = "seccompprofile"

// WriteGoLibseccomp writes p as a Go source file of package opts.GoPackage that builds and loads
// the filter with github.com/seccomp/libseccomp-golang (cgo). The file
// defines
//
//	func LoadFilter() error
//
// which installs the filter on every thread of the calling process and
// sets no_new_privs. It enforces what filter.NewFilter does: the default
// action, the native architecture only (which must be p's; another ABI
// kills the process), and one AddRuleConditional per learn.Rule, built with
// MakeCondition, whose conditions AND.
//
// Go programs are multithreaded, so the filter must be loaded with TSYNC.
// libseccomp-golang (v0.11.1) sets the TSYNC attribute in NewFilter, for
// every filter, and carries on without it only where libseccomp reports it
// unsupported (ENOTSUP, kernels before 3.17); it has no setter of its own.
// The generated code relies on that.
//
// With opts.Serving the file also defines
//
//	func EnterServing() error
//
// which builds the serving phase's filter with libseccomp and stacks it on
// the one LoadFilter loaded (without setting no_new_privs again): the full
// filter must then allow what libseccomp does while building and loading
// it under that filter (its seccomp call, which emit adds, and the memory
// the Go runtime and malloc take and give back).
//
// The output is gofmt'ed. Unexported names in it start with "profgen" so
// that the file can join an existing package.
func WriteGoLibseccomp(w io.Writer, p *learn.Profile, opts Options) error {
	return writeGoSource(w, p, opts, "go-libseccomp.tmpl", "Go source (libseccomp)")
}

// writeGoSource renders Go template name over p's view, and gofmts it.
func writeGoSource(w io.Writer, p *learn.Profile, opts Options, name, what string) error {
	if err := CheckGoPackage(opts.goPackage()); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	v, err := newView(p, opts)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	compiled := name == "go.tmpl"
	if compiled {
		if v.Program, err = compile(p, opts); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	if err := v.addServing(p, opts, "EnterServing", compiled); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	src, err := goDialect.render(name, v)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if src, err = format.Source(src); err != nil {
		return fmt.Errorf("%s: gofmt: %w", what, err)
	}
	_, err = w.Write(src)
	return err
}

// CheckGoPackage refuses a package name that is not a Go identifier.
func CheckGoPackage(pkg string) error {
	if !token.IsIdentifier(pkg) || pkg == "_" {
		return fmt.Errorf("Go package name %q is not a Go identifier", pkg)
	}
	return nil
}

// WriteGo writes p as a Go source file of package opts.GoPackage that needs
// no cgo: the filter is compiled now, with opts.Compile (the compiler
// runc's profiles also go through), and embedded as instructions. The file
// defines
//
//	func Install() error
//
// which sets no_new_privs and loads the filter with
// seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC) through
// golang.org/x/sys/unix, so that it covers every thread. A program using
// it builds with CGO_ENABLED=0. With opts.Serving, the file also defines
//
//	func EnterServing() error
//
// which the program calls once its start-up is done: it stacks the
// serving phase's filter on the one Install loaded (the kernel applies
// both, the stricter answer winning).
func WriteGo(w io.Writer, p *learn.Profile, opts Options) error {
	return writeGoSource(w, p, opts, "go.tmpl", "Go source")
}
