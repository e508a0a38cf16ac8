package emit_test

import (
	"context"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/emit"
	"github.com/profgen/profgen/filter"
	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/internal/runc"
	"github.com/profgen/profgen/internal/seccomp"
	"github.com/profgen/profgen/internal/testenv"
	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/recording"
)

// event is one syscall a filter is asked about.
type event struct {
	name string
	args [6]uint64
}

// verdictEvents are every recorded event of testdata/recording.json (each
// argument shape, as static replay checks them) and calls outside the
// profile: syscalls it does not name, and named ones with other argument
// values.
func verdictEvents(t *testing.T) []event {
	t.Helper()
	rec, err := recording.ReadFile(filepath.Join("testdata", "recording.json"))
	if err != nil {
		t.Fatal(err)
	}
	var evs []event
	for _, s := range rec.Syscalls {
		// Every recorded event, and the call with no argument set.
		for _, e := range append(s.Events(), recording.Event{}) {
			evs = append(evs, event{name: s.Name, args: e.Args})
		}
	}
	for _, name := range []string{"ptrace", "getcwd", "mount", "bpf", "unshare", "setns", "kexec_load", "init_module", "clone3", "faccessat2", "io_uring_setup"} {
		evs = append(evs, event{name: name})
	}
	evs = append(evs,
		event{name: "socket", args: [6]uint64{unix.AF_NETLINK, unix.SOCK_RAW}},
		event{name: "prctl", args: [6]uint64{unix.PR_SET_DUMPABLE, 1}},
		event{name: "ioctl", args: [6]uint64{0, unix.TIOCSTI}},
		event{name: "futex", args: [6]uint64{0, 9}},
	)
	return evs
}

// goProgram extracts the instructions the go output embeds.
func goFilterProgram(t *testing.T, src []byte) []unix.SockFilter {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "filter.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	var prog []unix.SockFilter
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || len(vs.Names) != 1 || vs.Names[0].Name != "profgenFilter" {
			return true
		}
		for _, el := range vs.Values[0].(*ast.CompositeLit).Elts {
			var ins unix.SockFilter
			for _, kv := range el.(*ast.CompositeLit).Elts {
				kv := kv.(*ast.KeyValueExpr)
				v, err := strconv.ParseUint(kv.Value.(*ast.BasicLit).Value, 0, 32)
				if err != nil {
					t.Fatal(err)
				}
				switch kv.Key.(*ast.Ident).Name {
				case "Code":
					ins.Code = uint16(v)
				case "Jt":
					ins.Jt = uint8(v)
				case "Jf":
					ins.Jf = uint8(v)
				case "K":
					ins.K = uint32(v)
				}
			}
			prog = append(prog, ins)
		}
		return false
	})
	if len(prog) == 0 {
		t.Fatal("no profgenFilter in the go output")
	}
	return prog
}

// cFilterProgram builds the C output as a launcher whose seccomp_load is
// wrapped (ld --wrap) to export the program libseccomp built to standard
// output instead of loading it, and returns that program: what the C
// file's profgen_load_filter would load.
func cFilterProgram(t *testing.T, src []byte) []unix.SockFilter {
	t.Helper()
	dir := t.TempDir()
	cfile := filepath.Join(dir, "profile.c")
	wrap := filepath.Join(dir, "wrap.c")
	if err := os.WriteFile(cfile, src, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(wrap, []byte("#include <seccomp.h>\nint __wrap_seccomp_load(scmp_filter_ctx ctx) { return seccomp_export_bpf(ctx, 1); }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "export")
	run(t, dir, "cc", "-Wall", "-Werror", "-DPROFGEN_MAIN", "-o", bin, cfile, wrap, "-Wl,--wrap=seccomp_load", "-lseccomp")
	prog, err := seccomp.DecodeFilter([]byte(run(t, dir, bin, "/bin/true")))
	if err != nil {
		t.Fatal(err)
	}
	return prog
}

// TestSameVerdicts: for the golden profile, the programs of the C output
// (as libseccomp builds it at load time), the go output (embedded) and the
// bpf output give, in the BPF VM, the verdict of the profile model for
// every recorded event and for calls outside the profile.
func TestSameVerdicts(t *testing.T) {
	p := learned(t, learn.Options{})
	bpfProg, err := seccomp.DecodeFilter(write(t, "bpf", p, testOpts))
	if err != nil {
		t.Fatal(err)
	}
	progs := map[string][]unix.SockFilter{
		"bpf": bpfProg,
		"go":  goFilterProgram(t, write(t, "go", p, testOpts)),
		"c":   cFilterProgram(t, write(t, "c", p, testOpts)),
	}
	audit, err := p.Arch.Audit()
	if err != nil {
		t.Fatal(err)
	}
	checked, denied := 0, 0
	for format, prog := range progs {
		vm, err := filter.NewVM(prog)
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		for _, ev := range verdictEvents(t) {
			nr, err := abi.SyscallNumber(p.Arch, ev.name)
			if err != nil {
				t.Fatal(err)
			}
			got, err := vm.Verdict(filter.SeccompData{Nr: int32(nr), Arch: audit, Args: ev.args})
			if err != nil {
				t.Fatalf("%s: %s: %v", format, ev.name, err)
			}
			want := p.Verdict(ev.name, ev.args)
			if got != want {
				t.Errorf("%s output: %s%x: %s, the model says %s", format, ev.name, ev.args, got, want)
			}
			checked++
			if want != learn.Allow {
				denied++
			}
		}
	}
	if denied == 0 || denied == checked {
		t.Fatalf("%d of %d events denied: the events do not tell allow from deny", denied, checked)
	}
}

// runcFilterProgram runs pauser in runc under doc (noNewPrivileges true)
// and reads the filter runc loaded for it with PTRACE_SECCOMP_GET_FILTER.
func runcFilterProgram(t *testing.T, doc *specs.LinuxSeccomp) []unix.SockFilter {
	t.Helper()
	if runtime.GOARCH != "amd64" {
		t.Skipf("testdata/pauser.c is x86_64 code; this machine is %s", runtime.GOARCH)
	}
	_, err := runc.Look()
	if err != nil {
		t.Fatalf("runc (scripts/deps.sh installs it): %v", err)
	}
	dir := t.TempDir()
	src, err := filepath.Abs(filepath.Join("testdata", "pauser.c"))
	if err != nil {
		t.Fatal(err)
	}
	pauser := filepath.Join(dir, "pauser")
	run(t, dir, "cc", "-O2", "-nostdlib", "-static", "-o", pauser, src)
	b, err := runc.NewBundle(filepath.Join(dir, "bundle"), runc.BundleOptions{Args: []string{pauser}, NoNewPrivileges: true, Seccomp: doc})
	if err != nil {
		t.Fatal(err)
	}
	id := runc.NewID("profgen-test")
	c, err := runc.Start(b, id, runc.Options{Stdio: runc.Stdio{Stderr: os.Stderr}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		c.Signal(unix.SIGKILL)
		c.Wait(context.Background())
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pid, err := c.WaitExec(ctx, pauser)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := seccomp.GetFilter(pid, 0)
	if err != nil {
		testenv.FilterReadback(t, err)
	}
	// Only one filter: the next index does not exist.
	if _, err := seccomp.GetFilter(pid, 1); !errors.Is(err, seccomp.ErrNoFilter) {
		t.Errorf("a second filter on the container's process (%v)", err)
	}
	return prog
}

// runcPauserProfile returns the learned profile for runc with pause
// allowed (runcFilterProgram's pauser waits in it), and its oci output.
func runcPauserProfile(t *testing.T) (*learn.Profile, *specs.LinuxSeccomp) {
	t.Helper()
	p := learned(t, learn.Options{Runtime: learn.LoaderRunc})
	if err := p.Add(learn.Syscall{Name: "pause", Action: learn.Allow, Origin: learn.OriginRecorded}); err != nil {
		t.Fatal(err)
	}
	doc, err := emit.OCI(p, emit.OCIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p, doc
}

// TestRuncSameVerdicts: the filter runc loads for the oci output gives the
// model's verdict for every event of TestSameVerdicts, except that runc
// answers ENOSYS for numbers above the profile's largest (its stub, see
// runc's libcontainer/seccomp/patchbpf), which the test expects for exactly those calls and
// checks with a number no syscall has.
func TestRuncSameVerdicts(t *testing.T) {
	p, doc := runcPauserProfile(t)
	vm, err := filter.NewVM(runcFilterProgram(t, doc))
	if err != nil {
		t.Fatal(err)
	}
	audit, err := p.Arch.Audit()
	if err != nil {
		t.Fatal(err)
	}
	maxNr := 0
	for _, s := range p.Syscalls {
		nr, _ := abi.SyscallNumber(p.Arch, s.Name)
		maxNr = max(maxNr, nr)
	}
	stubbed := 0
	for _, ev := range verdictEvents(t) {
		nr, err := abi.SyscallNumber(p.Arch, ev.name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := vm.Verdict(filter.SeccompData{Nr: int32(nr), Arch: audit, Args: ev.args})
		if err != nil {
			t.Fatal(err)
		}
		want := p.Verdict(ev.name, ev.args)
		if p.Lookup(ev.name) == nil && nr > maxNr {
			want = learn.ErrnoENOSYS
			stubbed++
		}
		if got != want {
			t.Errorf("runc's filter: %s%x: %s, want %s", ev.name, ev.args, got, want)
		}
	}
	// A number above every syscall in the profile (and above any the
	// kernel has): runc's stub answers ENOSYS.
	if got, err := vm.Verdict(filter.SeccompData{Nr: 1000, Arch: audit}); err != nil || got != learn.ErrnoENOSYS {
		t.Errorf("runc's filter: syscall 1000: %s, %v; want errno(ENOSYS), runc's stub", got, err)
	}
	t.Logf("%d events, %d of them above the profile's largest syscall number %d", len(verdictEvents(t)), stubbed, maxNr)
}

// TestCompiledOutputsAreHotFirst: the C output (as libseccomp builds it at
// load time, with the priorities it sets), the bpf output and the go
// output are one program, the hot-first one (filter.CompileHot with the
// recording's counts, which TestSameVerdicts checks against the model);
// it tests the most called argument-checked syscall in fewer instructions
// than libseccomp's default layout of the same profile, and it is not
// that default program.
func TestCompiledOutputsAreHotFirst(t *testing.T) {
	p := learned(t, learn.Options{})
	counts := p.Counts()
	if len(counts) == 0 {
		t.Fatal("the learned profile carries no recorded counts")
	}
	hot, err := filter.CompileHot(p, counts, filter.CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := filter.Compile(p, filter.CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bpfProg, err := seccomp.DecodeFilter(write(t, "bpf", p, testOpts))
	if err != nil {
		t.Fatal(err)
	}
	for format, prog := range map[string][]unix.SockFilter{
		"bpf": bpfProg,
		"go":  goFilterProgram(t, write(t, "go", p, testOpts)),
		"c":   cFilterProgram(t, write(t, "c", p, testOpts)),
	} {
		if !slices.Equal(prog, hot) {
			t.Errorf("%s output: %d instructions, not the hot-first program (%d)", format, len(prog), len(hot))
		}
	}
	if slices.Equal(hot, plain) {
		t.Fatal("the hot-first program is libseccomp's default one: the test shows nothing")
	}
	// The hottest syscall with argument rules, and a recorded call of it.
	order := learn.HotOrder(p, counts)
	first := p.Lookup(order[0])
	if first == nil || len(first.Rules) == 0 {
		t.Fatalf("HotOrder starts with %q, which has no argument rules", order[0])
	}
	nr, err := abi.SyscallNumber(p.Arch, first.Name)
	if err != nil {
		t.Fatal(err)
	}
	audit, err := p.Arch.Audit()
	if err != nil {
		t.Fatal(err)
	}
	d := filter.SeccompData{Nr: int32(nr), Arch: audit}
	hs, _, err := filter.Steps(hot, d)
	if err != nil {
		t.Fatal(err)
	}
	ps, _, err := filter.Steps(plain, d)
	if err != nil {
		t.Fatal(err)
	}
	if hs >= ps {
		t.Errorf("%s: %d instructions hot-first, %d in libseccomp's default layout", first.Name, hs, ps)
	}
}
