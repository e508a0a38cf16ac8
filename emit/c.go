package emit

import (
	"fmt"
	"io"

	"github.com/profgen/profgen/learn"
)

// WriteC writes p as a self-contained C source file that builds and loads
// the filter with libseccomp. The file defines
//
//	int profgen_load_filter(void);
//
// which returns 0 once the filter is installed on every thread of the
// calling process (TSYNC, with no_new_privs set), or a negative errno. It
// enforces what filter.NewFilter does: the default action, the native
// architecture only (which must be p's; another ABI, i386 compat or x32,
// kills the process), and one seccomp_rule_add_array per learn.Rule, whose
// conditions AND. Syscall names are resolved by the
// libseccomp the program runs with (seccomp_syscall_resolve_name), as
// profgen itself does, so the file compiles against any libseccomp 2.5
// header and a name that library does not know is an error naming the
// syscall at load time rather than a compile error.
//
// With opts.Serving the file also defines
//
//	int profgen_enter_serving(void);
//
// which the program calls once its start-up is done (after listen, say):
// it stacks the serving phase's filter on the one profgen_load_filter
// loaded, on every thread. That filter is compiled now, with opts.Compile,
// and loaded as raw instructions by one seccomp(SECCOMP_SET_MODE_FILTER,
// SECCOMP_FILTER_FLAG_TSYNC) call rather than built by libseccomp at that
// moment: the full filter is enforced then, and libseccomp would allocate
// the second filter's context, may probe the kernel, and free the context
// under both filters, calls neither profile need allow; the one call is
// the seccomp rule emit adds to p. It also enforces exactly what
// filter.NewFilter compiles, as static replay judges.
//
// Compiled with -DPROFGEN_MAIN the file is also a launcher that loads the
// filter and executes its arguments:
//
//	cc -DPROFGEN_MAIN -o launcher profile.c -lseccomp
//	./launcher ./server --port 8080
func WriteC(w io.Writer, p *learn.Profile, opts Options) error {
	v, err := newView(p, opts)
	if err != nil {
		return fmt.Errorf("C source: %w", err)
	}
	if err := v.addServing(p, opts, "profgen_enter_serving", true); err != nil {
		return fmt.Errorf("C source: %w", err)
	}
	src, err := cDialect.render("c.tmpl", v)
	if err != nil {
		return fmt.Errorf("C source: %w", err)
	}
	_, err = w.Write(src)
	return err
}
