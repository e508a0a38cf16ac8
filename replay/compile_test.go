package replay

import (
	"bytes"
	"path/filepath"
	"testing"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/emit"
	"github.com/profgen/profgen/filter"
	iseccomp "github.com/profgen/profgen/internal/seccomp"
	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/readers"
	"github.com/profgen/profgen/recording"
)

// learnFixture learns a profile from testdata/shapes.json.
func learnFixture(t testing.TB, opts learn.Options) (*learn.Profile, *recording.Recording) {
	t.Helper()
	rec, err := recording.ReadFile(filepath.Join("testdata", "shapes.json"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := learn.FromRecording(rec, opts)
	if err != nil {
		t.Fatal(err)
	}
	return p, rec
}

// viaOCI returns p after a trip through its OCI document.
func viaOCI(t testing.TB, p *learn.Profile) *learn.Profile {
	t.Helper()
	doc, err := emit.OCI(p, emit.OCIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := emit.WriteOCI(&b, doc); err != nil {
		t.Fatal(err)
	}
	back, err := readers.ParseOCI(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return back
}

// TestCompileInstructions: libseccomp's program for a learned profile
// checks the architecture first, stays within the kernel's limits, and
// uses only instructions golang.org/x/net/bpf decodes and runs, including
// the ALU AND of masked comparisons.
func TestCompileInstructions(t *testing.T) {
	p, _ := learnFixture(t, learn.Options{})
	prog, err := filter.Compile(p, filter.CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(prog) < 10 || len(prog) > iseccomp.MaxFilterLen {
		t.Fatalf("%d instructions", len(prog))
	}
	raw := filter.RawInstructions(prog)
	// ld [4] (seccomp_data.arch); jeq AUDIT_ARCH_X86_64.
	if ins, ok := raw[0].Disassemble().(bpf.LoadAbsolute); !ok || ins.Off != 4 || ins.Size != 4 {
		t.Errorf("first instruction %v, want ld [4]", raw[0].Disassemble())
	}
	if raw[1].K != unix.AUDIT_ARCH_X86_64 {
		t.Errorf("second instruction %v does not test AUDIT_ARCH_X86_64", raw[1].Disassemble())
	}
	var and, ret bool
	for i, r := range raw {
		switch ins := r.Disassemble().(type) {
		case bpf.RawInstruction:
			t.Errorf("instruction %d (%#v) not decoded", i, r)
		case bpf.ALUOpConstant:
			and = and || ins.Op == bpf.ALUOpAnd
		case bpf.RetConstant:
			ret = true
		}
	}
	if !and || !ret {
		t.Errorf("no AND (%v) or no return (%v) in the program", and, ret)
	}
	if _, err := filter.NewVM(prog); err != nil {
		t.Fatal(err)
	}
}

// TestLongFilter: a program of about 3000 instructions, whose jumps are
// longer than a conditional jump reaches, gives the model's verdicts.
func TestLongFilter(t *testing.T) {
	var rules []learn.Rule
	for v := range 3000 {
		rules = append(rules, learn.Rule{1: learn.Equal{Value: uint64(v) * 3}})
	}
	p := &learn.Profile{Arch: "amd64", DefaultAction: learn.ErrnoEPERM, Syscalls: []learn.Syscall{
		{Name: "ioctl", Action: learn.Allow, Rules: rules},
		{Name: "write", Action: learn.Allow},
	}}
	c, err := NewChecker(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []uint64{0, 3, 4, 3 * 1500, 3 * 2999, 3 * 3000, 1 << 32, 3 | 1<<32} {
		if _, err := c.Check("ioctl", [6]uint64{0, v}); err != nil {
			t.Error(err)
		}
	}
	if act, err := c.Check("write", [6]uint64{}); err != nil || act != learn.Allow {
		t.Errorf("write: %s, %v", act, err)
	}
}
