package emit_test

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
	"sigs.k8s.io/yaml"

	"github.com/profgen/profgen/emit"
	"github.com/profgen/profgen/filter"
	"github.com/profgen/profgen/internal/seccomp"
	"github.com/profgen/profgen/internal/testenv"
	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/trace"
)

// compileProfile is the compiler the tests give emit, the one cmd/profgen
// gives it: hot-first by the profile's recorded counts.
func compileProfile(p *learn.Profile) ([]unix.SockFilter, error) {
	return filter.CompileHot(p, p.Counts(), filter.CompileOptions{})
}

// testOpts are the Options of the golden files.
var testOpts = emit.Options{Version: "test", Compile: compileProfile}

// write runs format name over p.
func write(t *testing.T, name string, p *learn.Profile, opts emit.Options) []byte {
	t.Helper()
	f, err := emit.LookupFormat(name)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := f.Write(&b, p, opts); err != nil {
		t.Fatalf("--format %s: %v", name, err)
	}
	return b.Bytes()
}

// TestFormatTable: every format of the table writes the golden profile;
// the names are unique and the first is oci; an unknown name is refused
// naming the known ones.
func TestFormatTable(t *testing.T) {
	names := emit.FormatNames()
	if names[0] != "oci" {
		t.Errorf("default format %q, want oci", names[0])
	}
	seen := map[string]bool{}
	p := learned(t, learn.Options{Runtime: learn.LoaderNone})
	for _, f := range emit.Formats {
		if seen[f.Name] || f.Help == "" || f.Write == nil {
			t.Errorf("format %q: duplicate, or no help or writer", f.Name)
		}
		seen[f.Name] = true
		if out := write(t, f.Name, p, testOpts); len(out) == 0 {
			t.Errorf("format %s wrote nothing", f.Name)
		}
		if !strings.Contains(emit.FormatHelp(), f.Name+" ") {
			t.Errorf("FormatHelp does not list %s", f.Name)
		}
	}
	_, err := emit.LookupFormat("yaml")
	if err == nil || !strings.Contains(err.Error(), `"yaml"`) || !strings.Contains(err.Error(), strings.Join(names, ", ")) {
		t.Errorf("LookupFormat(yaml): %v", err)
	}
}

// TestNewFormatsGolden: the k8s, systemd, bpf and go outputs of the fixed
// profile. The bpf and go files hold what Debian 12's libseccomp 2.5.4
// compiles.
func TestNewFormatsGolden(t *testing.T) {
	p := learned(t, learn.Options{})
	testenv.Golden(t, "recording.k8s.yaml", write(t, "k8s", p, testOpts), *update)
	testenv.Golden(t, "recording.systemd.conf", write(t, "systemd", p, testOpts), *update)
	testenv.Golden(t, "recording.bpf", write(t, "bpf", p, testOpts), *update)
	testenv.Golden(t, "recording.nocgo.go.golden", write(t, "go", p, testOpts), *update)
}

// TestBPFIsTheCompiledProgram: the bpf output is the compiler's program,
// 8 bytes an instruction in native order, as DecodeFilter reads a
// libseccomp export.
func TestBPFIsTheCompiledProgram(t *testing.T) {
	p := learned(t, learn.Options{})
	want, err := compileProfile(p)
	if err != nil {
		t.Fatal(err)
	}
	out := write(t, "bpf", p, testOpts)
	if len(out) != 8*len(want) {
		t.Fatalf("%d bytes for %d instructions", len(out), len(want))
	}
	got, err := seccomp.DecodeFilter(out)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Error("bpf output differs from the compiled program")
	}
	// Without a compiler the formats that embed the program fail.
	for _, name := range []string{"bpf", "go"} {
		f, _ := emit.LookupFormat(name)
		if err := f.Write(&bytes.Buffer{}, p, emit.Options{}); err == nil || !strings.Contains(err.Error(), "compiler") {
			t.Errorf("%s without a compiler: %v", name, err)
		}
	}
}

// k8sSpecJSON parses a k8s output as YAML and returns its spec as generic
// JSON values, with apiVersion, kind and metadata.name checked.
func k8sSpecJSON(t *testing.T, out []byte, wantName string) map[string]any {
	t.Helper()
	var obj map[string]any
	if err := yaml.Unmarshal(out, &obj); err != nil {
		t.Fatalf("k8s output is not YAML: %v\n%s", err, out)
	}
	if obj["apiVersion"] != "security-profiles-operator.x-k8s.io/v1beta1" || obj["kind"] != "SeccompProfile" {
		t.Errorf("apiVersion %v, kind %v", obj["apiVersion"], obj["kind"])
	}
	if md, _ := obj["metadata"].(map[string]any); len(md) != 1 || md["name"] != wantName {
		t.Errorf("metadata %v, want only name %q", obj["metadata"], wantName)
	}
	if len(obj) != 4 {
		t.Errorf("top-level keys %v, want apiVersion, kind, metadata, spec", obj)
	}
	spec, _ := obj["spec"].(map[string]any)
	return spec
}

// ociJSON is the oci output of p as generic JSON values, spelled as the
// operator spells a spec: no defaultErrnoRet (always EPERM), errnoRet a
// string.
func ociJSON(t *testing.T, p *learn.Profile, opts emit.Options) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(write(t, "oci", p, opts), &doc); err != nil {
		t.Fatal(err)
	}
	if d, ok := doc["defaultErrnoRet"]; ok {
		if d != 1.0 {
			t.Fatalf("defaultErrnoRet %v", d)
		}
		delete(doc, "defaultErrnoRet")
	}
	for _, e := range doc["syscalls"].([]any) {
		e := e.(map[string]any)
		if n, ok := e["errnoRet"].(float64); ok {
			e["errnoRet"] = strconv.FormatFloat(n, 'f', -1, 64)
		}
	}
	return doc
}

// TestK8sSameSpecAsOCI: the k8s output parses as YAML and its spec is the
// oci output, argument rules and flags included; the name is --name, or
// derived from the recorded command.
func TestK8sSameSpecAsOCI(t *testing.T) {
	kill := learn.KillProcess
	for _, tc := range []struct {
		what string
		p    *learn.Profile
		opts emit.Options
		name string
	}{
		{"shapes", learned(t, learn.Options{}), testOpts, "argshapes"},
		{"kill, log, named", learned(t, learn.Options{Args: learn.ArgsNone, DefaultAction: &kill}), emit.Options{Log: true, Name: "web.v2"}, "web.v2"},
	} {
		t.Run(tc.what, func(t *testing.T) {
			spec := k8sSpecJSON(t, write(t, "k8s", tc.p, tc.opts), tc.name)
			want := ociJSON(t, tc.p, tc.opts)
			if !reflect.DeepEqual(spec, want) {
				a, _ := json.MarshalIndent(spec, "", " ")
				b, _ := json.MarshalIndent(want, "", " ")
				t.Errorf("k8s spec differs from the OCI document:\n%s\nOCI:\n%s", a, b)
			}
			if !strings.Contains(string(mustJSON(t, spec)), "SCMP_CMP_MASKED_EQ") && tc.what == "shapes" {
				t.Error("the spec has no argument rule")
			}
		})
	}
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestK8sName: names derived from commands are DNS-1123 labels; --name is
// checked as Kubernetes checks object names.
func TestK8sName(t *testing.T) {
	for cmd, want := range map[string]string{
		"./argshapes":                  "argshapes",
		"/usr/sbin/nginx":              "nginx",
		`/tmp/x*/ system("id"); /*`:    "tmp-x-system-id",
		`x*\\ system("id"); \\*`:       "x-system-id",
		"/opt/My_Server.BIN":           "my-server-bin",
		"---":                          "profgen-profile",
		"":                             "profgen-profile",
		strings.Repeat("a", 70) + "-b": strings.Repeat("a", 63),
	} {
		got := emit.K8sName([]string{cmd})
		if got != want {
			t.Errorf("K8sName(%q) = %q, want %q", cmd, got, want)
		}
		if err := emit.CheckK8sName(got); err != nil {
			t.Errorf("derived name: %v", err)
		}
	}
	if got := emit.K8sName(nil); got != "profgen-profile" {
		t.Errorf("K8sName(nil) = %q", got)
	}
	for _, bad := range []string{"", "My-App", "-a", "a-", "a_b", "a..b", strings.Repeat("a", 254), "a b"} {
		if err := emit.CheckK8sName(bad); err == nil {
			t.Errorf("name %q accepted", bad)
		}
	}
	for _, good := range []string{"a", "my-app", "web.v2", "0"} {
		if err := emit.CheckK8sName(good); err != nil {
			t.Errorf("name %q: %v", good, err)
		}
	}
	var b bytes.Buffer
	if err := emit.WriteK8s(&b, learned(t, learn.Options{}), emit.Options{Name: "Bad Name"}); err == nil || b.Len() != 0 {
		t.Errorf("WriteK8s with a bad name: %v, wrote %d bytes", err, b.Len())
	}
}

// systemdVerify checks drop-in conf with systemd-analyze verify, as a
// drop-in of a unit that runs /bin/true, and returns what it printed.
func systemdVerify(t *testing.T, conf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Fatalf("systemd-analyze (Debian's systemd package; scripts/deps.sh installs it): %v", err)
	}
	dir := t.TempDir()
	unit := filepath.Join(dir, "profgen-test.service")
	if err := os.WriteFile(unit, []byte("[Unit]\nDescription=profgen test\n\n[Service]\nExecStart=/bin/true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(unit+".d", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(unit+".d", "seccomp.conf"), conf, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("systemd-analyze", "verify", unit)
	cmd.Env = append(os.Environ(), "SYSTEMD_UNIT_PATH="+dir+":", "SYSTEMD_LOG_LEVEL=notice")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze verify: %v\n%s\n%s", err, out, conf)
	}
	return string(out)
}

// TestSystemdVerify: systemd-analyze verify reads every line of the
// drop-in (a planted unknown syscall shows that it reads the file), and
// the argument rules systemd cannot express are named in a comment and a
// warning.
func TestSystemdVerify(t *testing.T) {
	p := learned(t, learn.Options{})
	var warnings []string
	opts := testOpts
	opts.Warn = func(s string) { warnings = append(warnings, s) }
	conf := write(t, "systemd", p, opts)
	if out := systemdVerify(t, conf); out != "" {
		t.Errorf("systemd-analyze verify printed:\n%s\nfor:\n%s", out, conf)
	}
	bad := append(slices.Clone(conf), "SystemCallFilter=no_such_call\n"...)
	if out := systemdVerify(t, bad); !strings.Contains(out, "no_such_call") {
		t.Errorf("systemd-analyze verify did not read the drop-in: %q", out)
	}
	for _, want := range []string{
		"[Service]\n", "SystemCallArchitectures=native\n", "SystemCallErrorNumber=EPERM\n",
		"# socket: arg0 & 0xffffffff == 0x1 && ", "# clone3: errno(ENOSYS)",
	} {
		if !strings.Contains(string(conf), want) {
			t.Errorf("drop-in does not say %q", want)
		}
	}
	if len(warnings) != 2 || !strings.Contains(warnings[0], "socket") || !strings.Contains(warnings[1], "clone3") {
		t.Errorf("warnings %q, want the dropped rules and the ENOSYS answers", warnings)
	}
	var allowed []string
	for _, line := range strings.Split(string(conf), "\n") {
		if v, ok := strings.CutPrefix(line, "SystemCallFilter="); ok {
			allowed = append(allowed, strings.Fields(v)...)
		}
	}
	for _, s := range p.Syscalls {
		if in := slices.Contains(allowed, s.Name); in != (s.Action == learn.Allow) {
			t.Errorf("%s (%s) in SystemCallFilter: %v", s.Name, s.Action, in)
		}
	}

	kill := learn.KillProcess
	k := write(t, "systemd", learned(t, learn.Options{Args: learn.ArgsNone, DefaultAction: &kill}), testOpts)
	if !strings.Contains(string(k), "SystemCallErrorNumber=kill\n") || strings.Contains(string(k), "cannot express argument rules") {
		t.Errorf("--default-action kill drop-in:\n%s", k)
	}
	if out := systemdVerify(t, k); out != "" {
		t.Errorf("systemd-analyze verify printed:\n%s", out)
	}
	l := write(t, "systemd", learned(t, learn.Options{DefaultAction: &learn.Log}), testOpts)
	if !strings.Contains(string(l), "\nSystemCallLog=~") || strings.Contains(string(l), "SystemCallFilter=") {
		t.Errorf("--default-action log drop-in:\n%s", l)
	}
	if out := systemdVerify(t, l); out != "" {
		t.Errorf("systemd-analyze verify printed:\n%s", out)
	}
}

// buildProbe compiles testdata/probe.c into dir under name.
func buildProbe(t *testing.T, dir, name string) string {
	t.Helper()
	src, err := filepath.Abs(filepath.Join("testdata", "probe.c"))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, name)
	run(t, dir, "cc", "-O2", "-Wall", "-o", bin, src)
	return bin
}

// recordProbe records `PROBE record ARGS...` with the eBPF backend and
// learns its profile (no runtime), plus execve: the loader (bwrap, the
// launcher) execs the probe under the filter.
func recordProbe(t *testing.T, probe string, args ...string) *learn.Profile {
	t.Helper()
	backend, err := trace.NewEBPF(trace.EBPFOptions{})
	if errors.Is(err, trace.ErrNotSupported) {
		testenv.EBPFUnsupported(t, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Close() // the caller that creates a backend closes it
	var out bytes.Buffer
	res, err := trace.Record(context.Background(), trace.Options{
		Command: append([]string{probe, "record"}, args...), Backend: backend, Stdout: &out, Stderr: os.Stderr, Tool: "profgen test",
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != 0 {
		t.Fatalf("recorded probe exited %d:\n%s", res.ExitCode, out.String())
	}
	p, err := learn.FromRecording(res.Recording, learn.Options{Runtime: learn.LoaderNone})
	if err != nil {
		t.Fatal(err)
	}
	if p.Lookup("ptrace") != nil {
		t.Fatal("the recording of probe record has ptrace")
	}
	if err := p.Add(learn.Syscall{Name: "execve", Action: learn.Allow, Origin: learn.OriginRuntime, Reason: "the loader execs the probe"}); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestBPFBubblewrap: the bpf output of a recording of the probe, given to
// bwrap --seccomp FD, lets the probe make its recorded calls and denies
// ptrace, which the probe makes successfully under bwrap without it.
func TestBPFBubblewrap(t *testing.T) {
	if _, err := exec.LookPath("bwrap"); err != nil {
		t.Fatalf("bwrap (Debian's bubblewrap package; scripts/deps.sh installs it): %v", err)
	}
	dir := t.TempDir()
	probe := buildProbe(t, dir, "probe")
	p := recordProbe(t, probe)
	file := filepath.Join(dir, "filter.bpf")
	if err := os.WriteFile(file, write(t, "bpf", p, testOpts), 0o644); err != nil {
		t.Fatal(err)
	}
	bwrap := func(seccomp bool) string {
		t.Helper()
		args := []string{"--bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--die-with-parent"}
		var extra []*os.File
		if seccomp {
			f, err := os.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			extra = append(extra, f)
			args = append(args, "--seccomp", "3")
		}
		cmd := exec.Command("bwrap", append(args, "--", probe, "ptrace")...)
		cmd.ExtraFiles = extra
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("bwrap (seccomp %v): %v\n%s%s", seccomp, err, stdout.String(), stderr.String())
		}
		return stdout.String()
	}
	checkProbe(t, "probe under bwrap", bwrap(false), map[string]unix.Errno{"getuid": 0, "prctl-set-name": 0, "ptrace": unix.ESRCH})
	checkProbe(t, "probe under bwrap --seccomp", bwrap(true), map[string]unix.Errno{"getuid": 0, "prctl-set-name": 0, "ptrace": unix.EPERM})
}

// goInstallProgram is the main package of TestGoInstall. "probe" loads
// the filter and reports the probe's calls and ptrace; "ptrace" loads it
// and calls ptrace only.
const goInstallProgram = `package main

import (
	"fmt"
	"os"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"

	"IMPORT"
)

func report(name string, err error) {
	e := 0
	if err != nil {
		e = int(err.(unix.Errno))
	}
	fmt.Printf("%s %d\n", name, e)
}

func ptrace() error {
	// A pid above any pid_max: ESRCH when ptrace is allowed.
	if _, _, e := unix.RawSyscall6(unix.SYS_PTRACE, unix.PTRACE_PEEKDATA, 0x7fffffff, 0, 0, 0, 0); e != 0 {
		return e
	}
	return nil
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "ptrace" {
		if err := seccompprofile.Install(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		report("ptrace", ptrace())
		return
	}
	// A thread that exists before the filter is loaded: TSYNC must
	// filter it too.
	runtime.LockOSThread()
	tids := make(chan int)
	errs := make(chan error)
	go func() {
		runtime.LockOSThread()
		tids <- unix.Gettid()
		<-tids
		errs <- ptrace()
	}()
	if tid := <-tids; tid == unix.Gettid() {
		fmt.Fprintln(os.Stderr, "the goroutine runs on the main thread")
		os.Exit(1)
	}
	if err := seccompprofile.Install(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tids <- 0
	report("ptrace-other-thread", <-errs)
	var err error
	if _, _, e := unix.RawSyscall(unix.SYS_GETUID, 0, 0, 0); e != 0 {
		err = e
	}
	report("getuid", err)
	name := []byte("probe\x00")
	report("prctl-set-name", unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&name[0])), 0, 0, 0))
	report("prctl-set-dumpable", unix.Prctl(unix.PR_SET_DUMPABLE, 1, 0, 0, 0))
	report("ptrace", ptrace())
}
`

// goProfile is what the Go programs of the tests may call after loading
// the filter: the Go runtime, getuid and prctl(PR_SET_NAME).
func goProfile(t *testing.T, def learn.Action) *learn.Profile {
	t.Helper()
	p := &learn.Profile{Arch: "amd64", DefaultAction: def, Inputs: 1}
	if runtime.GOARCH != "amd64" {
		t.Skipf("the test profile is for amd64; this machine is %s", runtime.GOARCH)
	}
	for _, name := range append(goRuntimeCalls, "getuid") {
		if err := p.Add(learn.Syscall{Name: name, Action: learn.Allow, Origin: learn.OriginRuntime, Reason: "the Go runtime"}); err != nil {
			t.Fatal(err)
		}
	}
	pinned := learn.Rule{learn.MaskedEqual{Mask: 0xffffffff, Value: unix.PR_SET_NAME}}
	if err := p.Add(learn.Syscall{Name: "prctl", Action: learn.Allow, Rules: []learn.Rule{pinned}, Seen: 1, Origin: learn.OriginRecorded}); err != nil {
		t.Fatal(err)
	}
	return p
}

// buildGo writes src as package seccompprofile under a module-internal
// directory with main (importing it as IMPORT), vets and builds it with
// CGO_ENABLED=0 and env (GOARCH=arm64) and returns the binary.
func buildGo(t *testing.T, src []byte, main string, env ...string) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	dir, err := os.MkdirTemp("testdata", "gocode-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	pkgDir := filepath.Join(dir, "seccompprofile")
	if err := os.Mkdir(pkgDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pkgDir, "filter.go"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	importPath := "github.com/profgen/profgen/emit/" + filepath.ToSlash(pkgDir)
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(strings.Replace(main, "IMPORT", importPath, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	env = append([]string{"CGO_ENABLED=0"}, env...)
	gocmd := func(args ...string) {
		t.Helper()
		cmd := exec.Command(goBin, args...)
		cmd.Env = append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s go %s: %v\n%s", strings.Join(env, " "), strings.Join(args, " "), err, out)
		}
	}
	gocmd("vet", "./"+dir+"/...")
	bin := filepath.Join(t.TempDir(), "goprobe")
	gocmd("build", "-o", bin, "./"+dir)
	return bin
}

// TestGoInstall: the go output builds with CGO_ENABLED=0 into a static
// binary; after Install() the Go program makes its allowed calls, and
// ptrace fails with EPERM, also on a thread that existed before; with
// --default-action kill the program is killed by SIGSYS at ptrace.
func TestGoInstall(t *testing.T) {
	bin := buildGo(t, write(t, "go", goProfile(t, learn.ErrnoEPERM), testOpts), goInstallProgram)
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			t.Error("the CGO_ENABLED=0 binary has an ELF interpreter: it is not static")
		}
	}
	f.Close()
	checkProbe(t, "Go program after Install", run(t, "", bin), map[string]unix.Errno{
		"ptrace-other-thread": unix.EPERM, "getuid": 0, "prctl-set-name": 0,
		"prctl-set-dumpable": unix.EPERM, "ptrace": unix.EPERM,
	})

	kill := buildGo(t, write(t, "go", goProfile(t, learn.KillProcess), testOpts), goInstallProgram)
	cmd := exec.Command(kill, "ptrace")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("kill profile: %v, output %q; want killed by SIGSYS", err, out)
	}
	if ws, ok := exit.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != unix.SIGSYS || len(out) != 0 {
		t.Errorf("kill profile: %v, output %q; want killed by SIGSYS before any output", err, out)
	}
}

const goServingProgram = `package main

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"IMPORT"
)

func report(name string, err error) {
	e := 0
	if err != nil {
		e = int(err.(unix.Errno))
	}
	fmt.Printf("%s %d\n", name, e)
}

func main() {
	if err := seccompprofile.Install(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	report("execve-startup", unix.Exec("/nonexistent/profgen", []string{"x"}, nil))
	if err := seccompprofile.EnterServing(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	_, err := unix.Getpgid(0)
	report("getpgid", err)
	report("execve", unix.Exec("/nonexistent/profgen", []string{"x"}, nil))
	done := make(chan error)
	go func() { done <- unix.Prctl(unix.PR_SET_DUMPABLE, 1, 0, 0, 0) }()
	report("prctl-set-dumpable-thread", <-done)
}
`

// TestGoEnterServing: with Options.Serving, the go output's EnterServing
// stacks the serving filter on the one Install loaded: execve, which the
// full profile allows (ENOENT for a missing file), is denied after it,
// while what both allow still works; without Serving there is no
// EnterServing, and the output is as before.
func TestGoEnterServing(t *testing.T) {
	full := goProfile(t, learn.ErrnoEPERM)
	for _, name := range []string{"execve", "getpgid"} {
		if err := full.Add(learn.Syscall{Name: name, Action: learn.Allow, Seen: 1, Origin: learn.OriginRecorded}); err != nil {
			t.Fatal(err)
		}
	}
	serving := goProfile(t, learn.ErrnoEPERM)
	noSeccomp := testOpts
	noSeccomp.Serving = serving
	if err := emit.WriteGo(io.Discard, full, noSeccomp); err == nil || !strings.Contains(err.Error(), "EnterServing needs the profile to allow seccomp(SECCOMP_SET_MODE_FILTER)") {
		t.Errorf("a full profile without seccomp: %v", err)
	}
	if err := full.Add(learn.Syscall{Name: "seccomp", Action: learn.Allow, Rules: []learn.Rule{{learn.MaskedEqual{Mask: 0xffffffff, Value: unix.SECCOMP_SET_MODE_FILTER}}}, Origin: learn.OriginRuntime}); err != nil {
		t.Fatal(err)
	}
	if err := serving.Add(learn.Syscall{Name: "getpgid", Action: learn.Allow, Seen: 1, Origin: learn.OriginRecorded}); err != nil {
		t.Fatal(err)
	}
	opts := testOpts
	opts.Serving = serving
	src := write(t, "go", full, opts)
	if !bytes.Contains(src, []byte("func EnterServing() error")) || !bytes.Contains(src, []byte("var profgenServingFilter")) {
		t.Fatalf("no EnterServing in:\n%s", src)
	}
	if plain := write(t, "go", full, testOpts); bytes.Contains(plain, []byte("EnterServing")) {
		t.Error("EnterServing without Options.Serving")
	}
	bin := buildGo(t, src, goServingProgram)
	checkProbe(t, "Go program after EnterServing", run(t, "", bin), map[string]unix.Errno{
		"execve-startup": unix.ENOENT, "getpgid": 0, "execve": unix.EPERM,
		"prctl-set-dumpable-thread": unix.EPERM,
	})
}
