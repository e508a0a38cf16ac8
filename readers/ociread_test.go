package readers_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/readers"
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
	p, err := readers.ParseOCI(manyRules(t, n))
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
				if _, err := readers.ParseOCI(data); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/rule")
		})
	}
}

// TestParseOCINeverMatches: a condition that no value satisfies as the model
// reads it is refused with one line naming the entry, the syscall and the
// argument; libseccomp would compare a masked value's bits outside the mask
// otherwise, so guessing could allow what the author did not mean. The same
// conditions one step inside their range are read.
func TestParseOCINeverMatches(t *testing.T) {
	doc := func(args string) []byte {
		return []byte(`{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
			{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
			{"names": ["ioctl", "fcntl"], "action": "SCMP_ACT_ALLOW", "args": [` + args + `]}]}`)
	}
	for _, c := range []struct {
		name, bad, good, want string
	}{
		{"masked value outside mask",
			`{"index": 1, "value": 255, "valueTwo": 256, "op": "SCMP_CMP_MASKED_EQ"}`,
			`{"index": 1, "value": 511, "valueTwo": 256, "op": "SCMP_CMP_MASKED_EQ"}`,
			"syscalls[1] (ioctl fcntl): args[0]: arg1 & 0xff == 0x100 never matches: value 0x100 has bits 0x100 outside mask 0xff (libseccomp, and so runc and crun, would compare it as 0x0"},
		{"value wider than a 32-bit mask",
			`{"index": 2, "value": 4294967295, "valueTwo": 4294967297, "op": "SCMP_CMP_MASKED_EQ"}`,
			`{"index": 2, "value": 4294967295, "valueTwo": 1, "op": "SCMP_CMP_MASKED_EQ"}`,
			"syscalls[1] (ioctl fcntl): args[0]: arg2 & 0xffffffff == 0x100000001 never matches: value 0x100000001 has bits 0x100000000 outside mask 0xffffffff"},
		{"below 0",
			`{"index": 0, "value": 0, "op": "SCMP_CMP_LT"}`,
			`{"index": 0, "value": 1, "op": "SCMP_CMP_LT"}`,
			"syscalls[1] (ioctl fcntl): args[0]: arg0 < 0x0 never matches: no value is below 0"},
		{"above 2^64-1",
			`{"index": 3, "value": 18446744073709551615, "op": "SCMP_CMP_GT"}`,
			`{"index": 3, "value": 18446744073709551614, "op": "SCMP_CMP_GT"}`,
			"syscalls[1] (ioctl fcntl): args[0]: arg3 > 0xffffffffffffffff never matches: no value is above 0xffffffffffffffff"},
		{"in an entry runc splits",
			`{"index": 1, "value": 1, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 15, "valueTwo": 16, "op": "SCMP_CMP_MASKED_EQ"}`,
			`{"index": 1, "value": 1, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 31, "valueTwo": 16, "op": "SCMP_CMP_MASKED_EQ"}`,
			"syscalls[1] (ioctl fcntl): args[1]: arg1 & 0xf == 0x10 never matches"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := readers.ParseOCI(doc(c.bad))
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, readers.ErrProfile) || !errors.Is(err, learn.ErrNeverMatches) {
				t.Errorf("%v is not ErrProfile and ErrNeverMatches", err)
			}
			if !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q\nis not one line saying %q", err, c.want)
			}
			p, err := readers.ParseOCI(doc(c.good))
			if err != nil {
				t.Fatalf("the satisfiable variant: %v", err)
			}
			// Read, it diffs clean against itself.
			d, err := learn.Diff(learn.DiffInput{Profile: p}, learn.DiffInput{Profile: p})
			if err != nil {
				t.Fatal(err)
			}
			if d.Drifted() || len(d.Syscalls) != 0 {
				t.Errorf("diff P P: changes %v drift %v", d.Syscalls, d.Drift)
			}
		})
	}
}
