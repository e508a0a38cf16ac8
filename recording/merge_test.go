package recording

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestMergeUnion: syscalls and shapes are united, counts and Seen added,
// Inputs and Lost summed, and the inputs are left as they were.
func TestMergeUnion(t *testing.T) {
	a := sample()
	b := sample()
	b.Syscalls = []Syscall{
		{Name: "socket", Number: 41, Count: 5, Seen: 1, Args: socketArgs(), Shapes: []Shape{
			{Values: []Hex{2, 1, 0}, Count: 4, Seen: 1},
			{Values: []Hex{10, 2, 0}, Count: 1, Seen: 1},
		}},
		{Name: "write", Number: 1, Count: 7, Seen: 1},
	}
	b.Lost, b.Interrupted, b.Kernel = 2, true, "6.19.0"
	b.Start = a.Start.Add(-time.Hour)
	b.Notes = []string{"b note"}
	aBefore, bBefore := encode(t, a), encode(t, b)

	m, err := Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Validate(); err != nil {
		t.Errorf("merged recording invalid: %v", err)
	}
	if m.Inputs != 2 || m.Lost != 2 || !m.Interrupted || m.Kernel != "mixed" || !m.ArgShapes {
		t.Errorf("inputs %d lost %d interrupted %v kernel %q argShapes %v", m.Inputs, m.Lost, m.Interrupted, m.Kernel, m.ArgShapes)
	}
	if !m.Start.Equal(b.Start) || !m.End.Equal(a.End) {
		t.Errorf("start %v end %v: want the earliest start and the latest end", m.Start, m.End)
	}
	if got, want := m.Names(), []string{"read", "socket", "write"}; !slices.Equal(got, want) {
		t.Errorf("syscalls %v, want %v", got, want)
	}
	if s := m.Lookup("read"); s.Count != 10 || s.Seen != 1 {
		t.Errorf("read: count %d seen %d, want 10 seen 1", s.Count, s.Seen)
	}
	s := m.Lookup("socket")
	if s.Count != 8 || s.Seen != 2 {
		t.Errorf("socket: count %d seen %d, want 8 seen 2", s.Count, s.Seen)
	}
	want := []Shape{
		{Values: []Hex{1, 1, 0}, Count: 1, Seen: 1},
		{Values: []Hex{2, 1, 0}, Count: 6, Seen: 2},
		{Values: []Hex{10, 2, 0}, Count: 1, Seen: 1},
	}
	if fmt.Sprint(s.Shapes) != fmt.Sprint(want) {
		t.Errorf("socket shapes %v, want %v", s.Shapes, want)
	}
	if !bytes.Equal(encode(t, a), aBefore) || !bytes.Equal(encode(t, b), bBefore) {
		t.Error("Merge modified its inputs")
	}
}

// TestMergeArchMismatch: recordings of different architectures are never
// merged silently.
func TestMergeArchMismatch(t *testing.T) {
	a, b := sample(), sample()
	b.Arch = "x86"
	b.Syscalls = []Syscall{{Name: "read", Number: 3, Count: 1, Seen: 1}}
	_, err := Merge(a, b)
	if err == nil || !strings.Contains(err.Error(), "input 2 is for architecture x86, input 1 for amd64") {
		t.Errorf("merging amd64 and x86: %v", err)
	}
	if _, err := Merge(); err == nil {
		t.Error("Merge() succeeded")
	}
}

// TestMergeCaptureDiffers: the same syscall captured with different masks
// is refused, naming it.
func TestMergeCaptureDiffers(t *testing.T) {
	a, b := sample(), sample()
	b.Syscalls[1].Args[1].Mask = 0xffffffff
	_, err := Merge(a, b)
	if err == nil || !strings.Contains(err.Error(), "input 2: socket: argument capture differs") {
		t.Errorf("differing capture: %v", err)
	}
}

// TestMergeUnpinned: a recording without argument values (log backend)
// unpins every syscall of the merge, whatever the order, and an Unpinned
// syscall stays unpinned through further merges.
func TestMergeUnpinned(t *testing.T) {
	logRec := sample()
	logRec.Backend, logRec.ArgShapes = BackendLog, false
	logRec.Syscalls = []Syscall{{Name: "socket", Number: 41, Count: 1, Seen: 1}}
	for _, order := range [][]*Recording{{sample(), logRec}, {logRec, sample()}} {
		m, err := Merge(order...)
		if err != nil {
			t.Fatal(err)
		}
		if m.ArgShapes || m.Backend != "mixed" {
			t.Errorf("argShapes %v backend %q, want false, mixed", m.ArgShapes, m.Backend)
		}
		for _, s := range m.Syscalls {
			if !s.Unpinned || len(s.Args) != 0 || len(s.Shapes) != 0 {
				t.Errorf("%s: unpinned %v args %v shapes %v, want unpinned with none", s.Name, s.Unpinned, s.Args, s.Shapes)
			}
		}
		// Merging the result with a fully captured recording keeps
		// the syscalls unpinned.
		again, err := Merge(m, sample())
		if err != nil {
			t.Fatal(err)
		}
		if s := again.Lookup("socket"); !s.Unpinned || len(s.Shapes) != 0 || s.Seen != 3 {
			t.Errorf("socket after a second merge: unpinned %v shapes %v seen %d", s.Unpinned, s.Shapes, s.Seen)
		}
	}

	// One syscall marked unpinned in an otherwise captured recording.
	a, b := sample(), sample()
	b.Syscalls[1].Unpinned, b.Syscalls[1].Args, b.Syscalls[1].Shapes = true, nil, nil
	m, err := Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if s := m.Lookup("socket"); !s.Unpinned || len(s.Shapes) != 0 || !m.ArgShapes {
		t.Errorf("socket: unpinned %v shapes %v argShapes %v", s.Unpinned, s.Shapes, m.ArgShapes)
	}
	// A syscall one input captured and the other saw without arguments
	// (an older argument table) is unpinned.
	c := sample()
	c.Syscalls[1].Args, c.Syscalls[1].Shapes = nil, nil
	for _, order := range [][]*Recording{{a, c}, {c, a}} {
		m, err := Merge(order...)
		if err != nil {
			t.Fatal(err)
		}
		if s := m.Lookup("socket"); !s.Unpinned || len(s.Shapes) != 0 {
			t.Errorf("socket captured by one input only: unpinned %v shapes %v", s.Unpinned, s.Shapes)
		}
	}
}

// randomRecording returns a valid recording drawn from a small universe,
// so that inputs overlap in syscalls and shapes.
func randomRecording(rng *rand.Rand) *Recording {
	r := &Recording{
		Version: Version, Tool: "profgen test", Arch: "amd64", Command: []string{"./server"},
		Kernel:      []string{"6.18.0", "6.19.0"}[rng.IntN(2)],
		Backend:     BackendEBPF,
		Scope:       []Scope{ScopeCgroup, ScopeProcessTree}[rng.IntN(2)],
		Start:       time.Date(2026, 11, 26, rng.IntN(24), 0, 0, 0, time.UTC),
		Interrupted: rng.IntN(4) == 0,
		Lost:        uint64(rng.IntN(3)),
		ArgShapes:   rng.IntN(8) != 0,
		Inputs:      1 + rng.IntN(3),
	}
	// Counts near their largest values, so that sums saturate.
	huge := rng.IntN(4) == 0
	if huge {
		r.Inputs = math.MaxInt - rng.IntN(3)
		r.Lost = math.MaxUint64 - uint64(rng.IntN(3))
	}
	count := func(n int) uint64 {
		if huge && rng.IntN(2) == 0 {
			return math.MaxUint64 - uint64(rng.IntN(n))
		}
		return 1 + uint64(rng.IntN(n))
	}
	r.End = r.Start.Add(time.Duration(rng.IntN(100)) * time.Minute)
	if !r.ArgShapes {
		r.Backend = BackendLog
	}
	if rng.IntN(3) == 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("note %d", rng.IntN(3)))
	}
	universe := []struct {
		name string
		nr   int
		args []Arg
		vals [][]Hex // per arg, candidate values
	}{
		{"close", 3, nil, nil},
		{"ioctl", 16, []Arg{{Index: 1, Name: "request", Kind: KindEnum, Mask: 0xffffffff}}, [][]Hex{{0x5401, 0x5413, 0x541b}}},
		{"mmap", 9, []Arg{{Index: 2, Name: "prot", Kind: KindFlags, Mask: 0xffffffff, Exclusive: []Hex{6}}}, [][]Hex{{0, 1, 3, 5, 7}}},
		{"read", 0, nil, nil},
		{"socket", 41, socketArgs(), [][]Hex{{1, 2, 10}, {1, 2}, {0, 6}}},
		{"write", 1, nil, nil},
	}
	for _, u := range universe {
		if rng.IntN(3) == 0 {
			continue
		}
		s := Syscall{Name: u.name, Number: u.nr, Seen: 1 + rng.IntN(r.Inputs)}
		if r.ArgShapes && len(u.args) > 0 {
			if rng.IntN(10) == 0 {
				s.Unpinned = true
			} else {
				s.Args = slices.Clone(u.args)
				seen := map[string]bool{}
				for range 1 + rng.IntN(4) {
					var v []Hex
					for _, cands := range u.vals {
						v = append(v, cands[rng.IntN(len(cands))])
					}
					if seen[fmt.Sprint(v)] {
						continue
					}
					seen[fmt.Sprint(v)] = true
					sh := Shape{Values: v, Count: count(100), Seen: 1 + rng.IntN(s.Seen)}
					s.Shapes = append(s.Shapes, sh)
					s.Count = addCount(s.Count, sh.Count)
				}
			}
		}
		if s.Count == 0 {
			s.Count = count(1000)
		}
		r.Syscalls = append(r.Syscalls, s)
	}
	r.Normalize()
	return r
}

// TestMergeProperties: on the normalized JSON, Merge is commutative and
// associative, and Merge(a, b, c) equals both pairwise groupings, also when
// sums saturate (a quarter of the inputs have counts and inputs near their
// largest values), and every merge reads back (Validate). The
// inputs share their tool, command and exit status (runs of one release
// candidate): those are taken from the first input.
func TestMergeProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 0x9e3779b97f4a7c15))
	merge := func(rs ...*Recording) []byte {
		t.Helper()
		m, err := Merge(rs...)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("merged recording invalid: %v", err)
		}
		return encode(t, m)
	}
	mergeRec := func(rs ...*Recording) *Recording {
		t.Helper()
		m, err := Merge(rs...)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	for i := range 500 {
		a, b, c := randomRecording(rng), randomRecording(rng), randomRecording(rng)
		for _, r := range []*Recording{a, b, c} {
			if err := r.Validate(); err != nil {
				t.Fatalf("generator made an invalid recording: %v", err)
			}
		}
		ab, ba := merge(a, b), merge(b, a)
		if !bytes.Equal(ab, ba) {
			t.Fatalf("case %d: Merge(a, b) != Merge(b, a):\n%s\n---\n%s", i, ab, ba)
		}
		abc := merge(a, b, c)
		left := merge(mergeRec(a, b), c)
		right := merge(a, mergeRec(b, c))
		if !bytes.Equal(left, abc) || !bytes.Equal(right, abc) {
			t.Fatalf("case %d: not associative:\nMerge(a,b,c):\n%s\nMerge(Merge(a,b),c):\n%s\nMerge(a,Merge(b,c)):\n%s", i, abc, left, right)
		}
		if cab := merge(c, a, b); !bytes.Equal(cab, abc) {
			t.Fatalf("case %d: Merge(c, a, b) != Merge(a, b, c)", i)
		}
	}
}

// manyShapes returns a recording of one syscall (ioctl) with n distinct
// request values starting at from, each counted once.
func manyShapes(n, from int) *Recording {
	r := sample()
	s := Syscall{Name: "ioctl", Number: 16, Seen: 1, Args: []Arg{{Index: 1, Name: "request", Kind: KindEnum, Mask: 0xffffffff}}}
	s.Shapes = make([]Shape, n)
	for i := range s.Shapes {
		s.Shapes[i] = Shape{Values: []Hex{Hex(from + i)}, Count: 1, Seen: 1}
	}
	s.Count = uint64(n)
	r.Syscalls = []Syscall{s}
	return r
}

// BenchmarkMergeShapes merges two recordings of n shapes of one syscall,
// half of them shared. Merging is O(n log n): the time per shape (ns/shape)
// stays about the same from 20k to 200k shapes.
func BenchmarkMergeShapes(b *testing.B) {
	for _, n := range []int{20_000, 200_000} {
		b.Run(fmt.Sprintf("shapes=%d", n), func(b *testing.B) {
			x, y := manyShapes(n, 0), manyShapes(n, n/2)
			b.ResetTimer()
			for b.Loop() {
				if _, err := Merge(x, y); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(2*n), "ns/shape")
		})
	}
}

// TestMergeManyShapes: a merge of 200k shapes of one syscall with 200k
// others, half shared, completes (it used to be quadratic) with every shape
// once and the shared ones counted twice.
func TestMergeManyShapes(t *testing.T) {
	const n = 200_000
	m, err := Merge(manyShapes(n, 0), manyShapes(n, n/2))
	if err != nil {
		t.Fatal(err)
	}
	s := m.Lookup("ioctl")
	if len(s.Shapes) != n+n/2 || s.Count != 2*n || s.Seen != 2 {
		t.Fatalf("ioctl: %d shapes count %d seen %d, want %d shapes count %d seen 2", len(s.Shapes), s.Count, s.Seen, n+n/2, 2*n)
	}
	for i, sh := range s.Shapes {
		shared := i >= n/2 && i < n
		want := Shape{Values: []Hex{Hex(i)}, Count: 1, Seen: 1}
		if shared {
			want.Count, want.Seen = 2, 2
		}
		if !slices.Equal(sh.Values, want.Values) || sh.Count != want.Count || sh.Seen != want.Seen {
			t.Fatalf("shapes[%d] = %+v, want %+v", i, sh, want)
		}
	}
}

// TestMergeSaturates: sums that would overflow stop at the largest value
// (they used to wrap: an inputs of 2^63-1 plus 1 became negative and merge
// wrote a recording profgen rejects), and the result reads back.
func TestMergeSaturates(t *testing.T) {
	a, b := sample(), sample()
	a.Inputs, a.Lost = math.MaxInt, math.MaxUint64
	a.Syscalls[0].Count = math.MaxUint64
	a.Syscalls[1].Seen, a.Syscalls[1].Shapes[0].Seen = math.MaxInt-1, math.MaxInt-1
	a.Syscalls[1].Shapes[0].Count = math.MaxUint64 - 1
	b.Lost = 1
	m, err := Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if m.Inputs != math.MaxInt || m.Lost != math.MaxUint64 {
		t.Errorf("inputs %d lost %d, want %d and %d", m.Inputs, m.Lost, math.MaxInt, uint64(math.MaxUint64))
	}
	if s := m.Lookup("read"); s.Count != math.MaxUint64 || s.Seen != 2 {
		t.Errorf("read: count %d seen %d, want %d seen 2", s.Count, s.Seen, uint64(math.MaxUint64))
	}
	s := m.Lookup("socket")
	if s.Seen != math.MaxInt {
		t.Errorf("socket: seen %d, want %d", s.Seen, math.MaxInt)
	}
	// Shapes are sorted: {1,1,0} then {2,1,0}.
	if sh := s.Shapes[1]; sh.Count != math.MaxUint64 || sh.Seen != math.MaxInt {
		t.Errorf("socket shape %v: count %d seen %d, want %d and %d", sh.Values, sh.Count, sh.Seen, uint64(math.MaxUint64), math.MaxInt)
	}
	if sh := s.Shapes[0]; sh.Count != 2 || sh.Seen != 2 {
		t.Errorf("socket shape %v: count %d seen %d, want 2 and 2", sh.Values, sh.Count, sh.Seen)
	}
	if _, err := Parse(encode(t, m)); err != nil {
		t.Errorf("the saturated merge does not read back: %v", err)
	}
	// Saturated again: still the largest values.
	again, err := Merge(m, m)
	if err != nil {
		t.Fatal(err)
	}
	if again.Inputs != math.MaxInt || again.Lookup("read").Count != math.MaxUint64 {
		t.Errorf("merged twice: inputs %d read count %d", again.Inputs, again.Lookup("read").Count)
	}
}

// TestMergeValidates: an input Parse would reject is refused, naming the
// input and the fault, rather than merged into a recording that does not
// read back.
func TestMergeValidates(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(r *Recording)
		want string
	}{
		{"negative inputs", func(r *Recording) { r.Inputs = -1 }, "input 2: invalid recording: inputs must be at least 1, not -1"},
		{"seen above inputs", func(r *Recording) { r.Syscalls[0].Seen = 2 }, "input 2: invalid recording: syscalls[0] (read): seen 2 is not within 1..1 inputs"},
		{"shape seen above the syscall's", func(r *Recording) { r.Syscalls[1].Shapes[0].Seen = 2 },
			"input 2: invalid recording: syscalls[1] (socket): shapes[0]: seen 2 is not within 1..1"},
		{"negative shape seen", func(r *Recording) { r.Syscalls[1].Shapes[1].Seen = -5 },
			"input 2: invalid recording: syscalls[1] (socket): shapes[1]: seen -5 is not within 1..1"},
		{"unknown syscall", func(r *Recording) { r.Syscalls[0].Name = "nosuchcall" }, "input 2: invalid recording: syscalls[0] (nosuchcall)"},
		{"argument index twice", func(r *Recording) { r.Syscalls[1].Args[2].Index = 0 },
			"input 2: invalid recording: syscalls[1] (socket): args[2]: index 0 is listed twice"},
		{"duplicate shape", func(r *Recording) { r.Syscalls[1].Shapes[1].Values = []Hex{2, 1, 0} },
			"input 2: invalid recording: syscalls[1] (socket): shapes[1] has the values of shapes[0]"},
	} {
		b := sample()
		c.edit(b)
		_, err := Merge(sample(), b)
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v, want an ErrFormat containing %q", c.name, err, c.want)
		}
	}
}

// FuzzMerge: for any two recordings Parse accepts, Merge either refuses
// them in both orders or merges them in both, into a recording that reads
// back (Parse) and is the same whatever the order. The descriptive fields
// taken from the first input (tool, command, exit) are made equal first.
func FuzzMerge(f *testing.F) {
	rng := rand.New(rand.NewPCG(1, 2))
	f.Add(encodeFuzz(sample()), encodeFuzz(sample()))
	for range 8 {
		f.Add(encodeFuzz(randomRecording(rng)), encodeFuzz(randomRecording(rng)))
	}
	f.Fuzz(func(t *testing.T, x, y []byte) {
		a, err := Parse(x)
		if err != nil {
			return
		}
		b, err := Parse(y)
		if err != nil {
			return
		}
		b.Tool, b.Command, b.Exit = a.Tool, a.Command, a.Exit
		ab, errAB := Merge(a, b)
		ba, errBA := Merge(b, a)
		if (errAB == nil) != (errBA == nil) {
			t.Fatalf("Merge(a, b): %v, but Merge(b, a): %v", errAB, errBA)
		}
		if errAB != nil {
			return
		}
		dataAB, dataBA := encode(t, ab), encode(t, ba)
		if !bytes.Equal(dataAB, dataBA) {
			t.Fatalf("Merge(a, b) != Merge(b, a):\n%s\n---\n%s", dataAB, dataBA)
		}
		if _, err := Parse(dataAB); err != nil {
			t.Fatalf("the merge does not read back: %v\n%s", err, dataAB)
		}
	})
}

func encodeFuzz(r *Recording) []byte {
	var b bytes.Buffer
	if err := r.Encode(&b); err != nil {
		panic(err)
	}
	return b.Bytes()
}
