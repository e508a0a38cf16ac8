package emit_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/profgen/profgen/emit"
)

// hostileArgs are arguments of the recorded command made to break out of a
// comment, a string or a line in each output language.
var hostileArgs = []string{
	`a"b'c`,
	"line1\nline2 */ int injected_c; /*",
	"\n}\nfunc injectedGo() {\n",
	"\r\n[Service]\r\nExecStartPre=/bin/sh -c id\n",
	"x\u2028// U+2028\u2029y",
	"\n---\nkind: Secret\nmetadata: {name: injected}\n",
	"`id` $(id) %s %n \\ \\\\n \x1b[2J \x7f",
	"*/ system(\"id\"); /*",
}

// TestNoInjection: a probe at the path .../x*/ system("id"); /* run with
// hostile arguments is recorded, and every output of its profile still
// compiles (C, both Go forms), parses (YAML) and verifies (systemd); the
// recorded text appears only in comments, so no statement, declaration,
// key or directive from it exists in any output.
func TestNoInjection(t *testing.T) {
	dir := t.TempDir()
	evil := filepath.Join(dir, "x*", ` system("id"); `)
	if err := os.MkdirAll(evil, 0o755); err != nil {
		t.Fatal(err)
	}
	probe := buildProbe(t, evil, "*")
	if !strings.HasSuffix(probe, `/x*/ system("id"); /*`) {
		t.Fatalf("probe path %q", probe)
	}
	p := recordProbe(t, probe, hostileArgs...)
	if len(p.Command) != 2+len(hostileArgs) || p.Command[0] != probe {
		t.Fatalf("recorded command %q", p.Command)
	}
	// Notes are free text too: carry the command in one.
	p.Notes = append(p.Notes, strings.Join(p.Command, " "))

	// C: compiles cleanly; the object calls no system() and defines
	// nothing injected.
	csrc := filepath.Join(dir, "profile.c")
	if err := os.WriteFile(csrc, write(t, "c", p, testOpts), 0o644); err != nil {
		t.Fatal(err)
	}
	obj := filepath.Join(dir, "profile.o")
	run(t, dir, "cc", "-Wall", "-Wextra", "-Werror", "-DPROFGEN_MAIN", "-c", "-o", obj, csrc)
	syms := run(t, dir, "nm", obj)
	for _, bad := range []string{"system", "injected"} {
		if regexp.MustCompile(`\b` + bad).MatchString(syms) {
			t.Errorf("C object has symbol %s:\n%s", bad, syms)
		}
	}
	if !strings.Contains(string(write(t, "c", p, testOpts)), `* / system("id"); / *`) {
		t.Error("the C output does not show the recorded command, defused, in a comment")
	}

	// Go: both forms parse, declare only what the generator declares,
	// and name nothing injected; the cgo-free one builds.
	for _, format := range []string{"go", "go-libseccomp"} {
		src := write(t, format, p, testOpts)
		f, err := parser.ParseFile(token.NewFileSet(), format+".go", src, parser.ParseComments)
		if err != nil {
			t.Fatalf("%s output does not parse: %v", format, err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.Ident:
				if strings.Contains(n.Name, "inject") || n.Name == "system" || n.Name == "id" {
					t.Errorf("%s output has identifier %s", format, n.Name)
				}
			case *ast.BasicLit:
				if strings.Contains(n.Value, "system") || strings.Contains(n.Value, "inject") {
					t.Errorf("%s output has literal %s", format, n.Value)
				}
			}
			return true
		})
		if !strings.Contains(string(src), `system(\"id\")`) && !strings.Contains(string(src), `system("id")`) {
			t.Errorf("%s output does not show the recorded command in its comment", format)
		}
	}
	buildGo(t, write(t, "go", p, testOpts), goInstallProgram)

	// YAML: one document, the four keys, a derived DNS-1123 name, and
	// no value holding the recorded text.
	k := write(t, "k8s", p, testOpts)
	var docs []any
	for _, d := range strings.Split(string(k), "\n---") {
		var v any
		if err := yaml.Unmarshal([]byte(d), &v); err != nil {
			t.Fatalf("k8s output does not parse: %v\n%s", err, k)
		}
		docs = append(docs, v)
	}
	if len(docs) != 1 {
		t.Fatalf("k8s output has %d YAML documents", len(docs))
	}
	name := emit.K8sName(p.Command)
	if !strings.HasSuffix(name, "-x-system-id") {
		t.Errorf("derived name %q", name)
	}
	k8sSpecJSON(t, k, name)
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for key, e := range v {
				walk(key)
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		case string:
			if strings.ContainsAny(v, `"*$`) || strings.Contains(v, "injected") || strings.Contains(v, "Secret") {
				t.Errorf("k8s output has the value %q", v)
			}
		}
	}
	walk(docs[0])

	// systemd: verifies with nothing printed; every line is a comment,
	// the section header or a SystemCall*= directive.
	conf := write(t, "systemd", p, testOpts)
	if out := systemdVerify(t, conf); out != "" {
		t.Errorf("systemd-analyze verify printed:\n%s", out)
	}
	for _, line := range strings.Split(strings.TrimSuffix(string(conf), "\n"), "\n") {
		if line == "" || line == "[Service]" || strings.HasPrefix(line, "# ") ||
			regexp.MustCompile(`^SystemCall(Filter|Architectures|ErrorNumber|Log)=[a-z0-9_ ~A-Z]*$`).MatchString(line) {
			continue
		}
		t.Errorf("systemd drop-in line %q", line)
	}
	if strings.Count(string(conf), "\r") > 0 {
		t.Error("systemd drop-in has a carriage return")
	}
}
