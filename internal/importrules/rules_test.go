package importrules

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// load returns the module's import graph from `go list -json ./...`, run at
// the module root with the extra go list arguments given.
func load(t *testing.T, extra ...string) Graph {
	t.Helper()
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	args := append([]string{"list", "-e", "-json=ImportPath,Imports,Error"}, extra...)
	cmd := exec.Command("go", append(args, "./...")...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	g := Graph{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			ImportPath string
			Imports    []string
			Error      *struct{ Err string }
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		if p.Error != nil {
			t.Fatalf("go list: %s: %s", p.ImportPath, p.Error.Err)
		}
		g[p.ImportPath] = p.Imports
	}
	for _, pkg := range []string{"learn", "trace", "filter", "internal/abi"} {
		if _, ok := g[Module+"/"+pkg]; !ok {
			t.Fatalf("go list did not list %s: the graph is not the module's", pkg)
		}
	}
	return g
}

// TestImportRules checks the rules against the real imports.
func TestImportRules(t *testing.T) {
	for _, v := range Check(load(t)) {
		t.Error(v)
	}
}

// TestImportRulesPlanted plants a forbidden import into the real module
// (learn importing trace, through a go list overlay: no file of the
// checkout changes) and checks that the rules name it.
func TestImportRulesPlanted(t *testing.T) {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	dir := t.TempDir()
	planted := filepath.Join(dir, "planted.go")
	if err := os.WriteFile(planted, []byte("package learn\n\nimport _ \"github.com/profgen/profgen/trace\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	overlay, _ := json.Marshal(map[string]map[string]string{"Replace": {filepath.Join(root, "learn", "zz_planted.go"): planted}})
	overlayFile := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(overlayFile, overlay, 0o644); err != nil {
		t.Fatal(err)
	}
	got := Check(load(t, "-overlay", overlayFile))
	want := "learn -> trace: learn must not import trace"
	if !slices.Contains(got, want) {
		t.Errorf("planted learn -> trace: got %q, want it to contain %q", got, want)
	}
}

// TestCheck runs the checker on synthetic graphs: each planted edge is
// reported, naming it.
func TestCheck(t *testing.T) {
	m := func(p string) string { return Module + "/" + p }
	clean := Graph{
		m("cmd/profgen"):    {m("trace"), m("learn"), m("emit"), m("replay"), m("filter")},
		m("trace"):          {m("recording"), m("internal/seccomp"), m("internal/audit")},
		m("learn"):          {m("recording"), m("internal/abi")},
		m("emit"):           {m("learn"), "github.com/opencontainers/runtime-spec/specs-go"},
		m("filter"):         {m("learn"), Libseccomp, m("internal/seccomp")},
		m("replay"):         {m("filter"), m("trace"), m("emit")},
		m("internal/abi"):   {Libseccomp},
		m("internal/audit"): {m("internal/abi"), m("internal/seccomp")},
	}
	if v := Check(clean); len(v) != 0 {
		t.Fatalf("clean graph: %q", v)
	}
	for _, tc := range []struct {
		from, to string
		want     string
	}{
		{m("learn"), m("trace"), "learn -> trace: learn must not import trace"},
		{m("emit"), m("replay"), "emit -> replay: emit must not import replay"},
		{m("trace"), m("emit"), "trace -> emit: trace must not import emit"},
		// Indirect: trace reaches learn through filter.
		{m("trace"), m("filter"), "trace -> filter -> learn: trace must not import learn"},
		{m("replay"), m("cmd/profgen"), "replay -> cmd/profgen: nothing may import cmd/..."},
		{m("internal/audit"), m("trace"), "internal/audit -> trace: internal/... may import no project package outside internal/"},
		{m("trace"), Libseccomp, "trace -> " + Libseccomp + ": only internal/abi and filter may import libseccomp-golang"},
	} {
		g := Graph{}
		for k, v := range clean {
			g[k] = slices.Clone(v)
		}
		g[tc.from] = append(g[tc.from], tc.to)
		if got := Check(g); !slices.Contains(got, tc.want) {
			t.Errorf("planted %s -> %s: got %q, want %q among them", tc.from, tc.to, got, tc.want)
		}
	}
}
