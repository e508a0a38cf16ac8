package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	toml "github.com/pelletier/go-toml/v2"
	"gopkg.in/yaml.v3"
)

// docBlocks returns the fenced code blocks of docs/containers.md in
// language lang.
func docBlocks(t *testing.T, lang string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "containers.md"))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)```" + lang + "\n(.*?)```")
	var out []string
	for _, m := range re.FindAllStringSubmatch(string(data), -1) {
		out = append(out, m[1])
	}
	return out
}

// TestDocsKubernetes checks the form of the containerd, CRI-O and
// Kubernetes configuration in docs/containers.md (it is not run here): the
// TOML and YAML parse, both runtime handlers run profgen-runc under the
// name the RuntimeClass uses, and the pod template selects that class
// without the engine's seccomp profile.
func TestDocsKubernetes(t *testing.T) {
	tomls := docBlocks(t, "toml")
	if len(tomls) != 2 {
		t.Fatalf("%d TOML blocks, want 2 (containerd, CRI-O)", len(tomls))
	}
	var containerd struct {
		Plugins map[string]struct {
			Containerd struct {
				Runtimes map[string]struct {
					RuntimeType string `toml:"runtime_type"`
					Options     struct {
						BinaryName string
					} `toml:"options"`
				} `toml:"runtimes"`
			} `toml:"containerd"`
		} `toml:"plugins"`
	}
	if err := toml.Unmarshal([]byte(tomls[0]), &containerd); err != nil {
		t.Fatalf("containerd TOML: %v", err)
	}
	var crio struct {
		Crio struct {
			Runtime struct {
				Runtimes map[string]struct {
					RuntimePath        string   `toml:"runtime_path"`
					RuntimeType        string   `toml:"runtime_type"`
					AllowedAnnotations []string `toml:"allowed_annotations"`
				} `toml:"runtimes"`
			} `toml:"runtime"`
		} `toml:"crio"`
	}
	if err := toml.Unmarshal([]byte(tomls[1]), &crio); err != nil {
		t.Fatalf("CRI-O TOML: %v", err)
	}

	var docs []map[string]any
	dec := yaml.NewDecoder(strings.NewReader(strings.Join(docBlocks(t, "yaml"), "\n---\n")))
	for {
		var d map[string]any
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("YAML: %v", err)
		}
		docs = append(docs, d)
	}
	var handler, className, podClass, seccompType string
	for _, d := range docs {
		switch d["kind"] {
		case "RuntimeClass":
			handler, _ = d["handler"].(string)
			className, _ = d["metadata"].(map[string]any)["name"].(string)
		case "Deployment":
			spec := d["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
			podClass, _ = spec["runtimeClassName"].(string)
			seccompType, _ = spec["securityContext"].(map[string]any)["seccompProfile"].(map[string]any)["type"].(string)
		}
	}
	if handler == "" || className == "" || podClass != className || seccompType != "Unconfined" {
		t.Errorf("RuntimeClass %q (handler %q), pod runtimeClassName %q, seccompProfile %q", className, handler, podClass, seccompType)
	}
	cri := containerd.Plugins["io.containerd.grpc.v1.cri"].Containerd.Runtimes[handler]
	if cri.RuntimeType != "io.containerd.runc.v2" || filepath.Base(cri.Options.BinaryName) != "profgen-runc" {
		t.Errorf("containerd runtime %q: %+v", handler, cri)
	}
	cr := crio.Crio.Runtime.Runtimes[handler]
	if cr.RuntimeType != "oci" || filepath.Base(cr.RuntimePath) != "profgen-runc" || !slices.Contains(cr.AllowedAnnotations, AnnotationRecord) {
		t.Errorf("CRI-O runtime %q: %+v", handler, cr)
	}
}
