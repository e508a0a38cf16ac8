package workload

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

var (
	root = sync.OnceValues(findRoot)

	buildsMu sync.Mutex
	builds   = map[string]*build{}
)

type build struct {
	once sync.Once
	err  error
}

// Root returns the module root: the nearest directory at or above the
// working directory that holds go.mod. Tests run in their package
// directory, so this finds the checkout the test binary was built from.
func Root(t testing.TB) string {
	t.Helper()
	dir, err := root()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find module root: %w", err)
	}
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("find module root: no go.mod at or above %s", dir)
		}
		d = parent
	}
}

// Dir returns the absolute path of testdata/workloads.
func Dir(t testing.TB) string {
	t.Helper()
	return filepath.Join(Root(t), "testdata", "workloads")
}

// Path returns the absolute path of rel, a file or directory below
// testdata/workloads such as "multiproc/pipeline.sh". It fails the test if
// rel does not exist.
func Path(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(Dir(t), filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("workload %s: %v", rel, err)
	}
	return p
}

// Build compiles the workload name and returns the absolute path of the
// executable. name is a path below testdata/workloads:
//
//   - a directory holding Go files ("httpserver", "httpserver/driver") is
//     built with `go build` from the module root, with CGO_ENABLED=0 so the
//     binary is static;
//   - a C file ("multiproc/daemon.c"), or a directory holding exactly one C
//     file ("cfiletcp", "argshapes", "manycalls"), is built with
//     `cc -O2 -Wall -o BIN FILE.c -lpthread`.
//
// The executable is written to testdata/workloads/TOP/bin/BASE (ignored by
// git), where TOP is the first element of name and BASE the last without
// ".c": "multiproc/daemon.c" becomes multiproc/bin/daemon and
// "httpserver/driver" becomes httpserver/bin/driver. Each name is built once
// per test binary; concurrent test binaries are safe because each writes a
// temporary file and renames it into place. A failed build fails the test
// with the compiler's output.
func Build(t testing.TB, name string) string {
	t.Helper()
	p, err := plan(Root(t), Dir(t), name)
	if err != nil {
		t.Fatalf("build workload %s: %v", name, err)
	}

	// Key by output path: "cfiletcp" and "cfiletcp/cfiletcp.c" are one build.
	buildsMu.Lock()
	b, ok := builds[p.out]
	if !ok {
		b = &build{}
		builds[p.out] = b
	}
	buildsMu.Unlock()

	b.once.Do(func() { b.err = p.run() })
	if b.err != nil {
		t.Fatalf("build workload %s: %v", name, b.err)
	}
	return p.out
}

// buildPlan says how to build one workload.
type buildPlan struct {
	out string
	run func() error
}

// plan resolves name (a path below dir, the workloads directory) to its
// sources and output path.
func plan(root, dir, name string) (buildPlan, error) {
	name = strings.Trim(filepath.ToSlash(filepath.Clean(name)), "/")
	if name == "." || name == "" || name == ".." || strings.HasPrefix(name, "../") {
		return buildPlan{}, fmt.Errorf("bad workload name %q", name)
	}
	src := filepath.Join(dir, filepath.FromSlash(name))
	fi, err := os.Stat(src)
	if err != nil {
		return buildPlan{}, err
	}
	top, _, _ := strings.Cut(name, "/")
	outDir := filepath.Join(dir, top, "bin")
	out := filepath.Join(outDir, strings.TrimSuffix(filepath.Base(src), ".c"))

	mk := func(f func() error) buildPlan {
		return buildPlan{out: out, run: func() error {
			if err := os.MkdirAll(outDir, 0o755); err != nil {
				return fmt.Errorf("create output directory: %w", err)
			}
			return f()
		}}
	}
	if !fi.IsDir() {
		if !strings.HasSuffix(src, ".c") {
			return buildPlan{}, fmt.Errorf("%s is neither a C file nor a directory", name)
		}
		return mk(func() error { return buildC(src, out) }), nil
	}
	goFiles, _ := filepath.Glob(filepath.Join(src, "*.go"))
	cFiles, _ := filepath.Glob(filepath.Join(src, "*.c"))
	switch {
	case len(goFiles) > 0:
		pkg := "./" + filepath.ToSlash(mustRel(root, src))
		return mk(func() error { return buildGo(root, pkg, out) }), nil
	case len(cFiles) == 1:
		out = filepath.Join(outDir, strings.TrimSuffix(filepath.Base(cFiles[0]), ".c"))
		return mk(func() error { return buildC(cFiles[0], out) }), nil
	case len(cFiles) > 1:
		return buildPlan{}, fmt.Errorf("%s holds %d C files: name one of them", name, len(cFiles))
	}
	return buildPlan{}, fmt.Errorf("%s holds no Go or C sources", name)
}

func mustRel(base, target string) string {
	rel, err := filepath.Rel(base, target)
	if err != nil {
		panic(err)
	}
	return rel
}

// BuildShared compiles the C file name (a path below testdata/workloads,
// "dlplugin/plugin.c") into a shared library, `cc -O2 -Wall -shared -fPIC`,
// and returns its absolute path: TOP/bin/BASE.so, as Build names its
// outputs. Each name is built once per test binary.
func BuildShared(t testing.TB, name string) string {
	t.Helper()
	p, err := plan(Root(t), Dir(t), name)
	if err == nil && !strings.HasSuffix(name, ".c") {
		err = fmt.Errorf("%s is not a C file", name)
	}
	if err != nil {
		t.Fatalf("build shared library %s: %v", name, err)
	}
	src := filepath.Join(Dir(t), filepath.FromSlash(name))
	out := p.out + ".so"
	buildsMu.Lock()
	b, ok := builds[out]
	if !ok {
		b = &build{}
		builds[out] = b
	}
	buildsMu.Unlock()
	b.once.Do(func() {
		if b.err = os.MkdirAll(filepath.Dir(out), 0o755); b.err == nil {
			b.err = buildC(src, out, "-shared", "-fPIC")
		}
	})
	if b.err != nil {
		t.Fatalf("build shared library %s: %v", name, b.err)
	}
	return out
}

// buildC compiles one C file into out, with further flags of cc.
func buildC(src, out string, flags ...string) error {
	cc, err := exec.LookPath("cc")
	if err != nil {
		return fmt.Errorf("C compiler: %w (install gcc: make deps)", err)
	}
	return buildInto(out, func(tmp string) *exec.Cmd {
		return exec.Command(cc, append(append([]string{"-O2", "-Wall"}, flags...), "-o", tmp, src, "-lpthread")...)
	})
}

// BuildGoWith builds the Go workload name (a directory below
// testdata/workloads) with the build tags tags (comma-separated) and with
// files added to or replacing its sources, and returns the path of the
// executable, in a directory of the test's own. files maps a path below the
// workload's directory ("seccompprofile/filter.go") to the file's content;
// they reach the compiler through go build -overlay, so the source tree is
// not written. Unlike Build, every call builds. A failed build fails the
// test with the compiler's output.
func BuildGoWith(t testing.TB, name, tags string, files map[string][]byte) string {
	t.Helper()
	src := filepath.Join(Dir(t), filepath.FromSlash(name))
	if goFiles, _ := filepath.Glob(filepath.Join(src, "*.go")); len(goFiles) == 0 {
		t.Fatalf("build workload %s: no Go sources in %s", name, src)
	}
	tmp := t.TempDir()
	overlay := map[string]map[string]string{"Replace": {}}
	i := 0
	for rel, data := range files {
		i++
		f := filepath.Join(tmp, fmt.Sprintf("overlay-%d.go", i))
		if err := os.WriteFile(f, data, 0o644); err != nil {
			t.Fatal(err)
		}
		overlay["Replace"][filepath.Join(src, filepath.FromSlash(rel))] = f
	}
	js, err := json.Marshal(overlay)
	if err != nil {
		t.Fatal(err)
	}
	ov := filepath.Join(tmp, "overlay.json")
	if err := os.WriteFile(ov, js, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(tmp, filepath.Base(src))
	pkg := "./" + filepath.ToSlash(mustRel(Root(t), src))
	if err := buildGo(Root(t), pkg, out, "-tags", tags, "-overlay", ov); err != nil {
		t.Fatalf("build workload %s: %v", name, err)
	}
	return out
}

// buildGo builds the Go package pkg (relative to root, "./..." form) into
// out, with further flags of go build.
func buildGo(root, pkg, out string, flags ...string) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
		if _, serr := os.Stat(goBin); serr != nil {
			return fmt.Errorf("go tool: %w", err)
		}
	}
	return buildInto(out, func(tmp string) *exec.Cmd {
		cmd := exec.Command(goBin, append(append([]string{"build", "-o", tmp}, flags...), pkg)...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		return cmd
	})
}

// buildInto runs the command made by mk with a temporary output path next to
// out and renames the result to out, so a concurrent reader of out sees
// either the old or the new executable, never a partial one.
func buildInto(out string, mk func(tmp string) *exec.Cmd) error {
	tmpDir, err := os.MkdirTemp(filepath.Dir(out), ".build-*")
	if err != nil {
		return fmt.Errorf("create temporary directory: %w", err)
	}
	defer os.RemoveAll(tmpDir)
	tmp := filepath.Join(tmpDir, filepath.Base(out))

	cmd := mk(tmp)
	var output bytes.Buffer
	cmd.Stdout = &output
	cmd.Stderr = &output
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w\n%s", strings.Join(cmd.Args, " "), err, output.String())
	}
	if err := os.Rename(tmp, out); err != nil {
		return fmt.Errorf("install %s: %w", out, err)
	}
	return nil
}
