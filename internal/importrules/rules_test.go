package importrules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
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
		m("cmd/profgen"):     {m("trace"), m("learn"), m("emit"), m("replay"), m("filter")},
		m("trace"):           {m("recording"), m("internal/seccomp"), m("internal/audit"), m("internal/cgroup")},
		m("learn"):           {m("recording"), m("argspec"), m("internal/abi")},
		m("argspec"):         {m("recording"), m("internal/abi")},
		m("emit"):            {m("learn"), "github.com/opencontainers/runtime-spec/specs-go"},
		m("filter"):          {m("learn"), Libseccomp, m("internal/seccomp")},
		m("replay"):          {m("filter"), m("trace"), m("emit")},
		m("internal/abi"):    {Libseccomp},
		m("internal/audit"):  {m("internal/abi"), m("internal/seccomp")},
		m("internal/cgroup"): {m("internal/proc")},
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
		{m("argspec"), m("learn"), "argspec -> learn: argspec must not import learn"},
		// Indirect: argspec reaches learn through filter.
		{m("argspec"), m("filter"), "argspec -> filter -> learn: argspec must not import learn"},
		// Indirect: trace reaches learn through filter.
		{m("trace"), m("filter"), "trace -> filter -> learn: trace must not import learn"},
		{m("replay"), m("cmd/profgen"), "replay -> cmd/profgen: nothing may import cmd/..."},
		{m("internal/audit"), m("trace"), "internal/audit -> trace: internal/... may import no project package outside internal/"},
		{m("internal/cgroup"), m("trace"), "internal/cgroup -> trace: internal/... may import no project package outside internal/"},
		{m("trace/dispatch"), m("trace"), "trace/dispatch -> trace: trace/dispatch must not import trace"},
		{m("internal/proc"), m("monitor"), "internal/proc -> monitor: internal/... may import no project package outside internal/"},
		{m("internal/engine"), m("internal/abi"), "internal/engine -> internal/abi: internal/engine imports no project package (a table every package may import)"},
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

// TestArchitectureDoc checks that the import graph in docs/architecture.md
// (the first fenced block after "## Imports") is the real one, and prints
// the block to paste when it is not.
func TestArchitectureDoc(t *testing.T) {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(filepath.Dir(strings.TrimSpace(string(gomod))), "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(doc), "\n## Imports\n")
	if !ok {
		t.Fatal(`docs/architecture.md has no "## Imports" section`)
	}
	_, block, ok := strings.Cut(after, "```\n")
	if block, _, ok = strings.Cut(block, "```\n"); !ok {
		t.Fatal(`docs/architecture.md: no fenced block under "## Imports"`)
	}
	if want := importBlock(load(t)); block != want {
		t.Errorf("docs/architecture.md's import graph is not the module's; write it as:\n%s", want)
	}
}

// importBlock draws g as docs/architecture.md shows it: per package its
// project imports (the pipeline packages first, internal/ ones grouped)
// and the notable libraries it uses.
func importBlock(g Graph) string {
	top := []string{"trace", "replay", "emit", "readers", "filter", "learn", "recording", "argspec", "explain", "monitor", "trace/dispatch", "artifact", "landlock", "reachable"}
	libs := []struct{ path, name string }{
		{Libseccomp, "libseccomp-golang"},
		{"github.com/cilium/ebpf", "cilium/ebpf"},
		{"github.com/opencontainers/runtime-spec/specs-go", "runtime-spec"},
		{"github.com/spf13/cobra", "cobra"},
		{"gopkg.in/natefinch/lumberjack.v2", "lumberjack"},
		{"github.com/moby/profiles/seccomp", "moby/profiles"},
		{"sigs.k8s.io/yaml", "sigs.k8s.io/yaml"},
		{"oras.land/oras-go/v2", "oras-go"},
		{"github.com/prometheus/client_golang/prometheus", "client_golang"},
	}
	edges := func(pkg string) []string {
		imps := g[Module+"/"+pkg]
		var out, internal []string
		for _, p := range top {
			if slices.Contains(imps, Module+"/"+p) {
				out = append(out, p)
			}
		}
		for _, imp := range imps {
			if isProject(imp) && under(rel(imp), "internal") {
				internal = append(internal, strings.TrimPrefix(rel(imp), "internal/"))
			}
		}
		slices.Sort(internal)
		switch len(internal) {
		case 0:
		case 1:
			out = append(out, "internal/"+internal[0])
		default:
			out = append(out, "internal/{"+strings.Join(internal, ",")+"}")
		}
		for _, l := range libs {
			if slices.Contains(imps, l.path) {
				out = append(out, l.name)
			}
		}
		return out
	}
	var internal []string
	for _, p := range sortedKeys(g) {
		if !isProject(p) {
			continue
		}
		if r := rel(p); under(r, "internal") {
			internal = append(internal, r)
		}
	}
	// The commands first, then the packages from the outputs down.
	pipeline := []string{"cmd/profgen", "cmd/profgen-runc", "explain", "monitor", "replay", "emit", "readers", "filter", "learn", "recording", "trace", "argspec"}
	for _, p := range sortedKeys(g) {
		if r := rel(p); isProject(p) && !under(r, "internal") && !slices.Contains(pipeline, r) {
			pipeline = append(pipeline, r) // a new package: listed last
		}
	}
	var b strings.Builder
	column := func(names []string) int {
		n := 0
		for _, s := range names {
			n = max(n, len(s))
		}
		return n
	}
	w := column(pipeline)
	for _, p := range pipeline {
		fmt.Fprintf(&b, "%-*s ──> %s\n", w, p, strings.Join(edges(p), ", "))
	}
	b.WriteString("\n")
	var none []string
	w = column(internal)
	for _, p := range internal {
		if e := edges(p); len(e) > 0 {
			fmt.Fprintf(&b, "%-*s ──> %s\n", w, p, strings.Join(e, ", "))
		} else {
			none = append(none, p)
		}
	}
	fmt.Fprintf(&b, "%s: no project imports\n", strings.Join(none, ", "))
	return b.String()
}
