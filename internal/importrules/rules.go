package importrules

import (
	"fmt"
	"slices"
	"strings"
)

// Module is the module path the rules speak of.
const Module = "github.com/profgen/profgen"

// Libseccomp is the import path of libseccomp's Go binding.
const Libseccomp = "github.com/seccomp/libseccomp-golang"

// libseccompImporters are the only project packages that may import
// Libseccomp, relative to Module.
var libseccompImporters = []string{"internal/abi", "filter"}

// leaves are the packages (relative to Module) that import no project
// package: tables every package may import (internal/engine, the container
// engines).
var leaves = []string{"internal/engine"}

// forbidden lists, per package (relative to Module), the project packages
// it must not reach through its imports, directly or not.
var forbidden = map[string][]string{
	"learn":   {"trace", "replay"},
	"emit":    {"trace", "replay"},
	"readers": {"trace", "replay"},
	"trace":   {"learn", "emit", "replay", "landlock"},
	"explain": {"replay"},
	"monitor": {"replay"},
	// The dispatcher is below the eBPF backend: it serves trace, never
	// the other way round.
	"trace/dispatch": {"trace", "learn", "emit", "replay"},
	// The argument table is read by trace, learn and their tests.
	"argspec": {"trace", "learn", "emit", "replay"},
	// Landlock's policy model learns from recordings, never from the
	// recorder; trace and learn (seccomp's model) do not reach it.
	"landlock": {"trace", "replay", "learn", "emit"},
}

// Graph maps each package's import path to its direct (non-test) imports.
type Graph map[string][]string

// Check returns one line per broken rule, naming the edge that breaks it;
// none when g keeps every rule. The lines are sorted.
func Check(g Graph) []string {
	var out []string
	for _, pkg := range sortedKeys(g) {
		for _, imp := range g[pkg] {
			switch {
			case isProject(imp) && under(rel(imp), "cmd"):
				out = append(out, fmt.Sprintf("%s -> %s: nothing may import cmd/...", rel(pkg), rel(imp)))
			case isProject(pkg) && under(rel(pkg), "internal") && isProject(imp) && !under(rel(imp), "internal"):
				out = append(out, fmt.Sprintf("%s -> %s: internal/... may import no project package outside internal/", rel(pkg), rel(imp)))
			}
			if isProject(imp) && slices.Contains(leaves, rel(pkg)) {
				out = append(out, fmt.Sprintf("%s -> %s: %s imports no project package (a table every package may import)", rel(pkg), rel(imp), rel(pkg)))
			}
			if imp == Libseccomp && isProject(pkg) && !slices.Contains(libseccompImporters, rel(pkg)) {
				out = append(out, fmt.Sprintf("%s -> %s: only %s may import libseccomp-golang", rel(pkg), imp, strings.Join(libseccompImporters, " and ")))
			}
		}
	}
	for _, from := range sortedKeys(forbidden) {
		for _, to := range forbidden[from] {
			if path := findPath(g, Module+"/"+from, Module+"/"+to); path != nil {
				for i := range path {
					path[i] = rel(path[i])
				}
				out = append(out, fmt.Sprintf("%s: %s must not import %s", strings.Join(path, " -> "), from, to))
			}
		}
	}
	slices.Sort(out)
	return out
}

// findPath returns a shortest import chain from one package to another,
// or nil when there is none.
func findPath(g Graph, from, to string) []string {
	prev := map[string]string{from: ""}
	queue := []string{from}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, imp := range g[p] {
			if _, seen := prev[imp]; seen {
				continue
			}
			prev[imp] = p
			if imp == to {
				var path []string
				for q := to; q != ""; q = prev[q] {
					path = append(path, q)
				}
				slices.Reverse(path)
				return path
			}
			queue = append(queue, imp)
		}
	}
	return nil
}

func isProject(path string) bool { return path == Module || strings.HasPrefix(path, Module+"/") }

// rel returns path relative to Module, or path itself outside it.
func rel(path string) string {
	if path == Module {
		return "."
	}
	return strings.TrimPrefix(path, Module+"/")
}

// under reports whether the relative path p is dir or below it.
func under(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
