package argspec

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// arm64Consts reads the named integer constants of golang.org/x/sys/unix
// for linux/arm64 from its source (zerrors_linux_arm64.go), so that the
// aarch64 values of OpenFlagBits are checked against a library's rather
// than against themselves.
func arm64Consts(t *testing.T, names ...string) map[string]uint64 {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "golang.org/x/sys").Output()
	if err != nil {
		t.Fatalf("go list golang.org/x/sys: %v", err)
	}
	path := filepath.Join(strings.TrimSpace(string(out)), "unix", "zerrors_linux_arm64.go")
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	vals := map[string]uint64{}
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || len(vs.Names) != 1 || len(vs.Values) != 1 || !want[vs.Names[0].Name] {
			return true
		}
		lit, ok := vs.Values[0].(*ast.BasicLit)
		if !ok {
			t.Fatalf("%s in %s is not a literal", vs.Names[0].Name, path)
		}
		v, err := strconv.ParseUint(lit.Value, 0, 64)
		if err != nil {
			t.Fatal(err)
		}
		vals[vs.Names[0].Name] = v
		return true
	})
	for _, n := range names {
		if _, ok := vals[n]; !ok {
			t.Fatalf("%s not found in %s", n, path)
		}
	}
	return vals
}

// TestOpenFlagBits: the open flags that move are x/sys/unix's, for amd64
// (this build) and arm64 (its source), and the translation moves them
// both ways while keeping every other bit.
func TestOpenFlagBits(t *testing.T) {
	arm := arm64Consts(t, "O_DIRECT", "O_DIRECTORY", "O_NOFOLLOW", "O_CLOEXEC", "O_NONBLOCK", "O_CREAT", "O_PATH", "O_TMPFILE")
	amd := map[string]uint64{"O_DIRECT": unix.O_DIRECT, "O_DIRECTORY": unix.O_DIRECTORY, "O_NOFOLLOW": unix.O_NOFOLLOW}
	for _, b := range OpenFlagBits {
		if b.Name == "O_LARGEFILE" {
			// Userspace defines it as 0 on 64-bit; the kernel's
			// value is checked through the permutation below.
			continue
		}
		if got := b.Value["amd64"]; got != amd[b.Name] {
			t.Errorf("%s on amd64: table %#x, x/sys/unix %#x", b.Name, got, amd[b.Name])
		}
		if got := b.Value["arm64"]; got != arm[b.Name] {
			t.Errorf("%s on arm64: table %#x, x/sys/unix %#x", b.Name, got, arm[b.Name])
		}
	}
	// The flags that do not move have one value on both.
	for name, v := range map[string]uint64{"O_CLOEXEC": unix.O_CLOEXEC, "O_NONBLOCK": unix.O_NONBLOCK, "O_CREAT": unix.O_CREAT, "O_PATH": unix.O_PATH} {
		if arm[name] != v {
			t.Errorf("%s: amd64 %#x, arm64 %#x: it would need translating", name, v, arm[name])
		}
		if got := TranslateOpenFlags("amd64", "arm64", v); got != v {
			t.Errorf("%s %#x translated to %#x", name, v, got)
		}
	}
	// O_TMPFILE holds O_DIRECTORY: its bit moves with it.
	if got, want := TranslateOpenFlags("amd64", "arm64", unix.O_TMPFILE), arm["O_TMPFILE"]; got != want {
		t.Errorf("O_TMPFILE: %#x, want arm64's %#x", got, want)
	}
	v := uint64(unix.O_DIRECTORY | unix.O_CLOEXEC | unix.O_NOFOLLOW | unix.O_RDWR)
	arm64v := TranslateOpenFlags("amd64", "arm64", v)
	if want := arm["O_DIRECTORY"] | arm["O_CLOEXEC"] | arm["O_NOFOLLOW"] | unix.O_RDWR; arm64v != want {
		t.Errorf("%#x on arm64: %#x, want %#x", v, arm64v, want)
	}
	if back := TranslateOpenFlags("arm64", "amd64", arm64v); back != v {
		t.Errorf("round trip %#x -> %#x -> %#x", v, arm64v, back)
	}
	// A permutation: every moved bit lands on a distinct bit.
	seen := map[uint64]bool{}
	for _, b := range OpenFlagBits {
		seen[TranslateOpenFlags("amd64", "arm64", b.Value["amd64"])] = true
	}
	if len(seen) != len(OpenFlagBits) {
		t.Errorf("OpenFlagBits is not a permutation: %v", seen)
	}
}
