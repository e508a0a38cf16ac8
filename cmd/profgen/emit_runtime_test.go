package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/profgen/profgen/learn"
)

// TestEmitRuntimeDefault: emit adds runc's own calls by default only to the
// formats an OCI runtime loads (oci, k8s); the systemd, bpf, text, c, go
// and go-libseccomp outputs get none unless --runtime asks, and the text
// output says which runtime's calls were added.
func TestEmitRuntimeDefault(t *testing.T) {
	dir := t.TempDir()
	rec := writeRecording(t, dir, "rec.json", nil)
	// capget: runc calls it, the recording did not.
	for _, tc := range []struct {
		format  string
		args    []string
		capget  bool
		runtime string
	}{
		{"oci", nil, true, ""},
		{"k8s", nil, true, ""},
		{"systemd", nil, false, ""},
		{"c", nil, false, ""},
		{"go-libseccomp", nil, false, ""},
		{"text", nil, false, "# runtime: none: no container runtime's own calls were added"},
		{"text", []string{"--runtime", "runc"}, true, "# runtime: runc: its own calls after loading the filter were added ("},
		{"c", []string{"--runtime", "runc"}, true, ""},
		{"oci", []string{"--runtime", "none"}, false, ""},
	} {
		t.Run(tc.format+strings.Join(tc.args, ""), func(t *testing.T) {
			r := runProfgen(t, dir, append(append([]string{"emit", "--format", tc.format}, tc.args...), rec)...)
			if r.code != 0 {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			if got := strings.Contains(r.stdout, "capget"); got != tc.capget {
				t.Errorf("capget in the output: %v, want %v\n%s", got, tc.capget, r.stdout)
			}
			if tc.runtime != "" && !strings.Contains(r.stdout, "\n"+tc.runtime) {
				t.Errorf("no line %q in\n%s", tc.runtime, r.stdout)
			}
		})
	}
	// The go and bpf outputs are compiled: the default is byte for byte
	// --runtime none's, and not --runtime runc's.
	for _, format := range []string{"go", "bpf"} {
		outs := map[string]string{}
		for _, rt := range []string{"", string(learn.LoaderNone), string(learn.LoaderRunc)} {
			out := filepath.Join(dir, format+"-"+rt)
			args := []string{"emit", "--format", format, "-o", out}
			if rt != "" {
				args = append(args, "--runtime", rt)
			}
			if r := runProfgen(t, dir, append(args, rec)...); r.code != 0 {
				t.Fatalf("%v: exit %d, stderr %q", args, r.code, r.stderr)
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			outs[rt] = string(data)
		}
		if outs[""] != outs["none"] || outs["runc"] == outs["none"] {
			t.Errorf("--format %s: default == none: %v, runc == none: %v", format, outs[""] == outs["none"], outs["runc"] == outs["none"])
		}
	}
}
