package emit_test

import (
	"encoding/json"
	"fmt"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/profgen/profgen/emit"
)

// manyRules returns an OCI profile allowing ioctl with n request values,
// one entry (one rule) each, in descending order so that every rule read
// goes to the front of the sorted list.
func manyRules(tb testing.TB, n int) []byte {
	tb.Helper()
	doc := specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Architectures: []specs.Arch{specs.ArchX86_64}}
	for i := n; i > 0; i-- {
		doc.Syscalls = append(doc.Syscalls, specs.LinuxSyscall{
			Names:  []string{"ioctl"},
			Action: specs.ActAllow,
			Args:   []specs.LinuxSeccompArg{{Index: 1, Value: uint64(i), Op: specs.OpEqualTo}},
		})
	}
	data, err := json.Marshal(&doc)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// TestParseOCIManyRules: a profile of 6000 argument rules on one syscall
// reads (it used to take over a minute: the rules were normalised again on
// every entry), with every rule once, in order.
func TestParseOCIManyRules(t *testing.T) {
	const n = 6000
	p, err := emit.ParseOCI(manyRules(t, n))
	if err != nil {
		t.Fatal(err)
	}
	rs := p.Lookup("ioctl").Rules
	if len(rs) != n {
		t.Fatalf("%d rules, want %d", len(rs), n)
	}
	for i := 1; i < len(rs); i++ {
		if rs[i-1].String() >= rs[i].String() {
			t.Fatalf("rules %d and %d out of order: %s, %s", i-1, i, rs[i-1], rs[i])
		}
	}
}

// BenchmarkParseOCIRules reads a profile of n argument rules on one
// syscall. Reading is O(n log n): the time per rule (ns/rule) stays about the
// same from 600 to 6000 rules.
func BenchmarkParseOCIRules(b *testing.B) {
	for _, n := range []int{600, 6000} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			data := manyRules(b, n)
			for b.Loop() {
				if _, err := emit.ParseOCI(data); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/rule")
		})
	}
}
