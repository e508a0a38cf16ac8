package explain

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/emit"
	"github.com/profgen/profgen/filter"
	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/recording"
)

// TestExplainGoSource: explain reads the go output of emit (its embedded
// filter) and judges it as the OCI output of the same profile; the serving
// phase's filter in it is noted; a damaged instruction is one error naming
// its line.
func TestExplainGoSource(t *testing.T) {
	rec, err := recording.Parse([]byte(phasedRecording))
	if err != nil {
		t.Fatal(err)
	}
	p, err := learn.FromRecording(rec, learn.Options{Runtime: learn.LoaderNone})
	if err != nil {
		t.Fatal(err)
	}
	compile := func(p *learn.Profile) ([]unix.SockFilter, error) {
		return filter.CompileHot(p, p.Counts(), filter.CompileOptions{})
	}
	var goSrc, oci bytes.Buffer
	if err := emit.WriteGo(&goSrc, p, emit.Options{Compile: compile}); err != nil {
		t.Fatal(err)
	}
	ociFormat, err := emit.LookupFormat("oci")
	if err != nil {
		t.Fatal(err)
	}
	if err := ociFormat.Write(&oci, p, emit.Options{}); err != nil {
		t.Fatal(err)
	}
	g, err := Explain(goSrc.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	o, err := Explain(oci.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if g.Kind != KindGo || !slices.Equal(g.Allowed, o.Allowed) || g.AllowedCount != o.AllowedCount || names(g.DangerousAllowed)[0] != "ptrace" {
		t.Errorf("go output: kind %s, allowed %v (%d); OCI output: allowed %v (%d)", g.Kind, g.Allowed, g.AllowedCount, o.Allowed, o.AllowedCount)
	}

	ph, err := rec.Phase(recording.PhaseServing)
	if err != nil {
		t.Fatal(err)
	}
	serving, err := learn.FromRecording(ph, learn.Options{Runtime: learn.LoaderNone})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Add(learn.Syscall{Name: "seccomp", Action: learn.Allow, Origin: learn.OriginRuntime,
		Rules: []learn.Rule{{learn.MaskedEqual{Mask: 0xffffffff, Value: unix.SECCOMP_SET_MODE_FILTER}}}}); err != nil {
		t.Fatal(err)
	}
	goSrc.Reset()
	if err := emit.WriteGo(&goSrc, p, emit.Options{Compile: compile, Serving: serving}); err != nil {
		t.Fatal(err)
	}
	if g, err = Explain(goSrc.Bytes()); err != nil {
		t.Fatal(err)
	}
	if len(g.Notes) != 1 || !strings.Contains(g.Notes[0], "the file also holds the serving phase's filter") {
		t.Errorf("notes %q", g.Notes)
	}

	bad := strings.Replace(goSrc.String(), "{Code: 0x20, Jt: 0, Jf: 0, K: 0x4}", "{Code: 0x20, Jt: 0, Jf: 0, K: 0x4g}", 1)
	if _, err := Explain([]byte(bad)); err == nil || !strings.Contains(err.Error(), "line ") || strings.Contains(err.Error(), "\n") {
		t.Errorf("a damaged instruction: %v", err)
	}
}
