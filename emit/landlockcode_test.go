package emit_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	// The go format's output imports go-landlock: this keeps it in
	// go.mod, so that TestGoLandlock builds that output in this module.
	_ "github.com/landlock-lsm/go-landlock/landlock"

	"github.com/profgen/profgen/emit"
	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/landlock"
	"github.com/profgen/profgen/learn"
)

// everything is a profile that allows every native syscall by name.
func everything(t *testing.T) *learn.Profile {
	t.Helper()
	arch, err := abi.Native()
	if err != nil {
		t.Fatal(err)
	}
	p := &learn.Profile{Arch: arch, DefaultAction: learn.ErrnoEPERM, Inputs: 1}
	for nr := 0; nr < 1024; nr++ {
		if n, err := abi.SyscallName(arch, nr); err == nil {
			if err := p.Add(learn.Syscall{Name: n, Action: learn.Allow, Origin: learn.OriginRecorded, Seen: 1}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return p
}

// codeRuleset lets programs of /usr run, and read dir/ok.
func codeRuleset(t *testing.T, dir string) *landlock.Ruleset {
	t.Helper()
	r, err := landlock.ParseConfig([]byte(`{"abi": 7,
 "ruleset": [{"handledAccessFs": ["abi.all"], "handledAccessNet": ["abi.all"], "scoped": ["abi.all"]}],
 "pathBeneath": [
  {"allowedAccess": ["abi.read_execute"], "parent": ["/usr", "/etc/ld.so.cache"]},
  {"allowedAccess": ["read_file", "read_dir"], "parent": ["` + dir + `/ok"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func okDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "ok"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ok", "f"), []byte("allowed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestCLandlock: the C launcher applies the ruleset with the filter: the
// file it allows is read, /etc/shadow is refused by Landlock.
func TestCLandlock(t *testing.T) {
	dir := okDir(t)
	var src bytes.Buffer
	if err := emit.WriteC(&src, everything(t), emit.Options{Version: "test", Landlock: codeRuleset(t, dir)}); err != nil {
		t.Fatal(err)
	}
	c := filepath.Join(dir, "profile.c")
	if err := os.WriteFile(c, src.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	launcher := filepath.Join(dir, "launcher")
	run(t, dir, "cc", "-Wall", "-Werror", "-DPROFGEN_MAIN", "-o", launcher, c, "-lseccomp")
	if out := run(t, dir, launcher, "/usr/bin/cat", filepath.Join(dir, "ok", "f")); out != "allowed\n" {
		t.Errorf("allowed file: %q", out)
	}
	out, err := exec.Command(launcher, "/usr/bin/cat", "/etc/shadow").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "Permission denied") {
		t.Errorf("/etc/shadow under the ruleset: %v %s", err, out)
	}
}

const goLandlockProgram = `package main

import (
	"fmt"
	"os"

	profile "IMPORT"
)

func main() {
	if err := profile.Install(); err != nil {
		fmt.Println("install:", err)
		os.Exit(1)
	}
	for _, f := range os.Args[1:] {
		_, err := os.ReadFile(f)
		fmt.Println(f, err)
	}
}
`

// TestGoLandlock: the cgo-free Go output applies the ruleset through
// go-landlock, then the filter, on every thread.
func TestGoLandlock(t *testing.T) {
	dir := okDir(t)
	var src bytes.Buffer
	if err := emit.WriteGo(&src, everything(t), emit.Options{Version: "test", Compile: compileProfile, Landlock: codeRuleset(t, dir)}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(src.String(), "func RestrictLandlock() error") {
		t.Fatal("no RestrictLandlock")
	}
	mod, err := os.MkdirTemp("testdata", "golandlock-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(mod) })
	pkg := filepath.Join(mod, "seccompprofile")
	if err := os.Mkdir(pkg, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pkg, "filter.go"), src.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	main := strings.Replace(goLandlockProgram, "IMPORT", "github.com/profgen/profgen/emit/"+filepath.ToSlash(pkg), 1)
	if err := os.WriteFile(filepath.Join(mod, "main.go"), []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "prog")
	cmd := exec.Command("go", "build", "-o", bin, "./"+mod)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ok := filepath.Join(dir, "ok", "f")
	got := run(t, dir, bin, ok, "/etc/shadow")
	want := ok + " <nil>\n/etc/shadow open /etc/shadow: permission denied\n"
	if got != want {
		t.Errorf("got\n%swant\n%s", got, want)
	}
}

// TestLandlockOtherFormats: formats that do not carry a ruleset refuse one.
func TestLandlockOtherFormats(t *testing.T) {
	f, err := emit.LookupFormat("oci")
	if err != nil {
		t.Fatal(err)
	}
	err = f.Emit(&bytes.Buffer{}, everything(t), emit.Options{Landlock: codeRuleset(t, t.TempDir())})
	if err == nil || !strings.Contains(err.Error(), "does not carry a Landlock ruleset") {
		t.Errorf("oci with a ruleset: %v", err)
	}
}
