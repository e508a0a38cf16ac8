package learn_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/recording"
)

// manyRules returns a profile allowing ioctl with n request values, built
// one entry (one rule) at a time, in descending order.
func manyRules(tb testing.TB, n int) *learn.Profile {
	tb.Helper()
	p := &learn.Profile{Arch: "amd64", DefaultAction: learn.ErrnoEPERM, Inputs: 1}
	b := learn.NewBuilder(p)
	for i := n; i > 0; i-- {
		if err := b.Add(learn.Syscall{Name: "ioctl", Action: learn.Allow, Seen: 1, Rules: []learn.Rule{enumRule(1, uint64(i))}}); err != nil {
			tb.Fatal(err)
		}
	}
	b.Done()
	return p
}

// TestManyRules: 6000 rules on one syscall build, merge and diff against
// themselves (each used to take over a minute) with every rule once and no
// drift.
func TestManyRules(t *testing.T) {
	const n = 6000
	p := manyRules(t, n)
	if got := len(p.Lookup("ioctl").Rules); got != n {
		t.Fatalf("%d rules, want %d", got, n)
	}
	m, err := learn.Merge(p, manyRules(t, n/2))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Lookup("ioctl"); !slices.Equal(ruleTexts(got.Rules), ruleTexts(p.Lookup("ioctl").Rules)) || got.Seen != n+n/2 || m.Inputs != 2 {
		t.Errorf("merging a subset changed the rules, or seen %d inputs %d", got.Seen, m.Inputs)
	}
	d, err := learn.Diff(learn.DiffInput{Profile: p}, learn.DiffInput{Profile: m})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Syscalls) != 0 || d.Drifted() {
		t.Errorf("diff of equal profiles: %s", diffText(d))
	}
}

// BenchmarkRules builds a profile of n argument rules on one syscall entry
// by entry, merges it with itself and diffs it against itself. Each is
// O(n log n): the time per rule (ns/rule) stays about the same from 600 to
// 6000 rules.
func BenchmarkRules(b *testing.B) {
	for _, n := range []int{600, 6000} {
		b.Run(fmt.Sprintf("build/rules=%d", n), func(b *testing.B) {
			for b.Loop() {
				manyRules(b, n)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/rule")
		})
		p := manyRules(b, n)
		b.Run(fmt.Sprintf("merge/rules=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := learn.Merge(p, p); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/rule")
		})
		b.Run(fmt.Sprintf("diff/rules=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := learn.Diff(learn.DiffInput{Profile: p}, learn.DiffInput{Profile: p}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/rule")
		})
	}
}

// manyShapes returns a recording of ioctl with n request values.
func manyShapes(n, from int) *recording.Recording {
	r := &recording.Recording{Version: 1, Arch: "amd64", ArgShapes: true, Inputs: 1}
	s := recording.Syscall{Name: "ioctl", Number: 16, Count: uint64(n), Seen: 1,
		Args: []recording.Arg{{Index: 1, Name: "request", Kind: recording.KindEnum, Mask: 0xffffffff}}}
	for i := range n {
		s.Shapes = append(s.Shapes, recording.Shape{Values: []recording.Hex{recording.Hex(from + i)}, Count: 1, Seen: 1})
	}
	r.Syscalls = []recording.Syscall{s}
	return r
}

// BenchmarkShapes learns a profile from a recording of n shapes of one
// syscall and diffs two such recordings, half their shapes shared: the time
// per shape (ns/shape) stays about the same from 20k to 200k shapes.
func BenchmarkShapes(b *testing.B) {
	for _, n := range []int{20_000, 200_000} {
		x, y := manyShapes(n, 0), manyShapes(n, n/2)
		b.Run(fmt.Sprintf("learn/shapes=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := learn.FromRecording(x, learn.Options{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/shape")
		})
		b.Run(fmt.Sprintf("diff/shapes=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := learn.Diff(learn.DiffInput{Recording: x}, learn.DiffInput{Recording: y}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(2*n), "ns/shape")
		})
	}
}
