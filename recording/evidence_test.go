package recording

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func ms(v int64) *int64 { return &v }

// withEvidence returns sample() with evidence on every call: read made by
// exe a in both phases, socket by b at startup only.
func withEvidence(a, b string, first int64) *Recording {
	r := sample()
	r.ReadyAtMs = ms(100)
	r.Syscalls[0].Evidence = Evidence{Exes: []string{a}, FirstSeenMs: ms(first), Phases: map[string]uint64{PhaseStartup: 4, PhaseServing: 6}}
	r.Syscalls[1].Evidence = Evidence{Exes: []string{b}, FirstSeenMs: ms(first + 1), Phases: map[string]uint64{PhaseStartup: 3}}
	for k := range r.Syscalls[1].Shapes {
		sh := &r.Syscalls[1].Shapes[k]
		sh.Evidence = Evidence{Exes: []string{b}, FirstSeenMs: ms(first + 1 + int64(k)), Phases: map[string]uint64{PhaseStartup: sh.Count}}
	}
	return r
}

// TestEvidenceRoundTrip: evidence survives Encode and Parse.
func TestEvidenceRoundTrip(t *testing.T) {
	r := withEvidence("/usr/bin/a", "/usr/bin/b", 5)
	back, err := Parse(encode(t, r))
	if err != nil {
		t.Fatal(err)
	}
	read := back.Lookup("read")
	if !slices.Equal(read.Exes, []string{"/usr/bin/a"}) || *read.FirstSeenMs != 5 || read.Phases[PhaseServing] != 6 || *back.ReadyAtMs != 100 {
		t.Errorf("read back %+v, ready %v", read.Evidence, back.ReadyAtMs)
	}
	if sh := back.Lookup("socket").Shapes[0]; sh.Phases[PhaseStartup] == 0 || sh.FirstSeenMs == nil {
		t.Errorf("shape evidence lost: %+v", sh.Evidence)
	}
}

// TestEvidenceValidate: malformed evidence, and evidence in a recording of
// an older format version, are refused naming the field.
func TestEvidenceValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(r *Recording)
		want string
	}{
		{"relative exe", func(r *Recording) { r.Syscalls[0].Exes = []string{"bin/a"} }, "not an absolute path"},
		{"unsorted exes", func(r *Recording) { r.Syscalls[0].Exes = []string{"/b", "/a"} }, "not sorted"},
		{"too many exes", func(r *Recording) {
			r.Syscalls[0].Exes = nil
			for i := range MaxExes + 1 {
				r.Syscalls[0].Exes = append(r.Syscalls[0].Exes, fmt.Sprintf("/x%02d", i))
			}
		}, "17 exes listed"},
		{"negative first seen", func(r *Recording) { r.Syscalls[0].FirstSeenMs = ms(-1) }, "firstSeenMs -1"},
		{"first input of one run", func(r *Recording) { r.Syscalls[0].FirstInput = 1 }, "firstInput 1"},
		{"unknown phase", func(r *Recording) { r.Syscalls[0].Phases = map[string]uint64{"warmup": 1} }, `unknown phase "warmup"`},
		{"phases exceed count", func(r *Recording) { r.Syscalls[0].Phases[PhaseServing] = 100 }, "more than the 10 recorded"},
		{"shape", func(r *Recording) { r.Syscalls[1].Shapes[0].Phases = map[string]uint64{"x": 1} }, "shapes[0]"},
		{"ready", func(r *Recording) { r.ReadyAtMs = ms(-5) }, "readyAtMs -5"},
		{"version 2", func(r *Recording) { r.Version = 2 }, "needs format version 3, not 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := withEvidence("/a", "/b", 1)
			tc.edit(r)
			err := r.Validate()
			if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v, want an ErrFormat saying %q", err, tc.want)
			}
		})
	}
}

// TestMergeEvidence: exes are united, phases added, and the first
// sighting is the earliest input's, with its own first-seen time; merging
// is associative, and a merge of one run keeps its times without an input
// number.
func TestMergeEvidence(t *testing.T) {
	a := withEvidence("/usr/bin/a", "/usr/bin/b", 50)
	b := withEvidence("/usr/bin/c", "/usr/bin/b", 7)
	c := withEvidence("/usr/bin/a", "/usr/bin/d", 1)
	c.Syscalls = c.Syscalls[:1] // c made no socket

	m, err := Merge(a, b, c)
	if err != nil {
		t.Fatal(err)
	}
	read := m.Lookup("read")
	if !slices.Equal(read.Exes, []string{"/usr/bin/a", "/usr/bin/c"}) || read.Phases[PhaseServing] != 18 || read.FirstInput != 1 || *read.FirstSeenMs != 50 {
		t.Errorf("read: %+v (first seen %d)", read.Evidence, *read.FirstSeenMs)
	}
	if m.ReadyAtMs != nil {
		t.Errorf("merge of three runs has readyAtMs %d", *m.ReadyAtMs)
	}
	// Associative: (a b) c = a (b c).
	ab, _ := Merge(a, b)
	bc, _ := Merge(b, c)
	left, err1 := Merge(ab, c)
	right, err2 := Merge(a, bc)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if l, r := string(encode(t, left)), string(encode(t, right)); l != r || l != string(encode(t, m)) {
		t.Errorf("merge is not associative:\n%s\n---\n%s", l, r)
	}
	// The order of the inputs decides which one came first.
	m2, _ := Merge(c, b, a)
	if r := m2.Lookup("read"); r.FirstInput != 1 || *r.FirstSeenMs != 1 {
		t.Errorf("c first: read first input %d at %d ms", r.FirstInput, *r.FirstSeenMs)
	}
	if s := m2.Lookup("socket"); s.FirstInput != 2 || *s.FirstSeenMs != 8 {
		t.Errorf("c first: socket first input %d at %d ms, want input 2 (b) at 8", s.FirstInput, *s.FirstSeenMs)
	}
	one, err := Merge(a)
	if err != nil || one.Lookup("read").FirstInput != 0 || *one.ReadyAtMs != 100 {
		t.Errorf("merge of one run: %v %+v", err, one.Lookup("read").Evidence)
	}
	// Exes beyond MaxExes are counted.
	var many []*Recording
	for i := range MaxExes + 3 {
		many = append(many, withEvidence(fmt.Sprintf("/bin/x%02d", i), "/b", 1))
	}
	mm, err := Merge(many...)
	if err != nil {
		t.Fatal(err)
	}
	if r := mm.Lookup("read"); len(r.Exes) != MaxExes || r.OtherExes != 3 {
		t.Errorf("%d exes listed, %d others; want %d and 3", len(r.Exes), r.OtherExes, MaxExes)
	}
}

// TestPhase: the serving phase holds only the calls made after ready,
// counted as many times as they were made then; a recording without
// phases says how to get them.
func TestPhase(t *testing.T) {
	r := withEvidence("/a", "/b", 1)
	serving, err := r.Phase(PhaseServing)
	if err != nil {
		t.Fatal(err)
	}
	if names := serving.Names(); !slices.Equal(names, []string{"read"}) || serving.Syscalls[0].Count != 6 {
		t.Errorf("serving phase: %v count %d", names, serving.Syscalls[0].Count)
	}
	if err := serving.Validate(); err != nil {
		t.Errorf("serving phase invalid: %v", err)
	}
	startup, err := r.Phase(PhaseStartup)
	if err != nil || len(startup.Lookup("socket").Shapes) != 2 {
		t.Errorf("startup phase: %v", err)
	}
	if r.Syscalls[0].Count != 10 {
		t.Error("Phase modified its input")
	}
	if _, err := sample().Phase(PhaseServing); err == nil || !strings.Contains(err.Error(), "--ready") {
		t.Errorf("recording without phases: %v", err)
	}
	if _, err := r.Phase("warmup"); err == nil {
		t.Error("unknown phase accepted")
	}
	noShapes := withEvidence("/a", "/b", 1)
	noShapes.Syscalls[1].Shapes[0].Phases = nil
	if _, err := noShapes.Phase(PhaseStartup); err == nil || !strings.Contains(err.Error(), "socket") {
		t.Errorf("shape without phases: %v", err)
	}
}
