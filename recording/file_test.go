package recording

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sample returns a small valid recording.
func sample() *Recording {
	return &Recording{
		Version: Version, Tool: "profgen test", Kernel: "6.18.0", Arch: "amd64",
		Backend: BackendEBPF, Scope: ScopeCgroup, Command: []string{"./server"},
		Start: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 26, 12, 0, 1, 0, time.UTC),
		ArgShapes: true, Inputs: 1,
		Syscalls: []Syscall{
			{Name: "read", Number: 0, Count: 10, Seen: 1},
			{Name: "socket", Number: 41, Count: 3, Seen: 1, Args: socketArgs(), Shapes: []Shape{
				{Values: []Hex{2, 1, 0}, Count: 2, Seen: 1},
				{Values: []Hex{1, 1, 0}, Count: 1, Seen: 1},
			}},
		},
	}
}

func socketArgs() []Arg {
	return []Arg{
		{Index: 0, Name: "domain", Kind: KindEnum, Mask: 0xffffffff},
		{Index: 1, Name: "type", Kind: KindEnum, Mask: 0xfff7f7ff},
		{Index: 2, Name: "protocol", Kind: KindEnum, Mask: 0xffffffff},
	}
}

func encode(t *testing.T, r *Recording) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := r.Encode(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestRoundTrip: Encode then Parse gives the same recording, normalized
// (shapes sorted by value), and encoding it again gives the same bytes.
func TestRoundTrip(t *testing.T) {
	data := encode(t, sample())
	r, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Lookup("socket").Shapes[0].Values; got[0] != 1 {
		t.Errorf("shapes not sorted by value: first %v", got)
	}
	if again := encode(t, r); !bytes.Equal(again, data) {
		t.Errorf("re-encoding differs:\n%s\n---\n%s", again, data)
	}
	if !bytes.Contains(data, []byte(`"mask": "0xfff7f7ff"`)) {
		t.Errorf("masks not written as hex strings:\n%s", data)
	}
}

func TestReadWriteFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.json")
	if err := sample().WriteFile(path); err != nil {
		t.Fatal(err)
	}
	r, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Names(); len(got) != 2 || got[0] != "read" || got[1] != "socket" {
		t.Errorf("names %v", got)
	}
	if r.Lookup("write") != nil || r.Lookup("read") == nil {
		t.Error("Lookup")
	}
	_, err = ReadFile(filepath.Join(t.TempDir(), "missing.json"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want ErrNotExist", err)
	}
}

// TestParseErrors: every way a recording can be unusable is an ErrFormat
// error that says what and where.
func TestParseErrors(t *testing.T) {
	valid := string(encode(t, sample()))
	edit := func(old, new string) string {
		t.Helper()
		if !strings.Contains(valid, old) {
			t.Fatalf("sample has no %q", old)
		}
		return strings.Replace(valid, old, new, 1)
	}
	for _, tc := range []struct {
		name, data string
		want       []string
	}{
		{"truncated", valid[:len(valid)/2], []string{"line ", "column "}},
		{"syntax", "{\n  \"version\": 1,\n  \"arch\": amd64\n}", []string{"line 3 column 11"}},
		{"wrong type", edit(`"inputs": 1`, `"inputs": "one"`), []string{"line 19 column 18", "inputs"}},
		{"no version", `{"arch": "amd64"}`, []string{`no "version"`}},
		{"future version", edit(`"version": 3`, `"version": 4`), []string{"format version 4 is newer than this profgen reads (3)", "upgrade"}},
		{"zero version", edit(`"version": 3`, `"version": 0`), []string{"bad format version 0"}},
		{"unknown field", edit(`"lost": 0`, `"lost": 0, "extra": true`), []string{`unknown field "extra"`}},
		{"unknown arch", edit(`"arch": "amd64"`, `"arch": "vax"`), []string{"vax"}},
		{"no inputs", edit(`"inputs": 1`, `"inputs": 0`), []string{"inputs must be at least 1"}},
		{"unknown syscall", edit(`"name": "read"`, `"name": "reed"`), []string{"syscalls[0] (reed)", `unknown syscall "reed"`}},
		{"wrong number", edit(`"number": 41`, `"number": 42`), []string{"syscalls[1] (socket)", "number 42, but socket is 41 on amd64"}},
		{"seen above inputs", edit(`"seen": 1`, `"seen": 2`), []string{"syscalls[0] (read): seen 2 is not within 1..1 inputs"}},
		{"index above 5", edit(`"index": 2`, `"index": 6`), []string{"args[2]: index 6 is not 0..5"}},
		{"unknown kind", edit(`"kind": "enum"`, `"kind": "bitmap"`), []string{`unknown kind "bitmap"`}},
		{"bad hex", edit(`"mask": "0xffffffff"`, `"mask": "4294967295"`), []string{"missing 0x prefix"}},
		{"short shape", edit(`"0x1",`+"\n            \"0x1\",", `"0x1",`), []string{"shapes[0] has 2 values for 3 args"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.data))
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrFormat) {
				t.Errorf("%v is not ErrFormat", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestParseUnsorted: a hand-edited recording with syscalls out of order or
// twice is refused, not silently reordered.
func TestParseUnsorted(t *testing.T) {
	r := sample()
	r.Syscalls[0], r.Syscalls[1] = r.Syscalls[1], r.Syscalls[0]
	var b bytes.Buffer
	if err := (&jsonNoNormalize{r}).encode(&b); err != nil {
		t.Fatal(err)
	}
	_, err := Parse(b.Bytes())
	if err == nil || !strings.Contains(err.Error(), "not sorted by name or duplicated") {
		t.Errorf("unsorted: %v", err)
	}
}

func TestHex(t *testing.T) {
	for _, s := range []string{"0x0", "0x1", "0xfff7f7ff", "0xffffffffffffffff"} {
		var h Hex
		if err := h.UnmarshalText([]byte(s)); err != nil {
			t.Fatal(err)
		}
		if b, _ := h.MarshalText(); string(b) != s {
			t.Errorf("%s round-trips to %s", s, b)
		}
	}
	for _, s := range []string{"", "0x", "12", "0xg", "0x10000000000000000"} {
		var h Hex
		if err := h.UnmarshalText([]byte(s)); err == nil {
			t.Errorf("%q accepted as %#x", s, uint64(h))
		}
	}
}

// TestParseShapes: shapes that repeat each other (in order or not), an
// argument index listed twice, and a shape seen more often than its syscall
// or never are refused, naming where.
func TestParseShapes(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(s *Syscall)
		want string
	}{
		{"repeated in order", func(s *Syscall) { s.Shapes[1].Values = []Hex{2, 1, 0} }, "syscalls[1] (socket): shapes[1] has the values of shapes[0]"},
		{"repeated out of order", func(s *Syscall) {
			s.Shapes = append(s.Shapes, Shape{Values: []Hex{0, 0, 0}, Count: 1, Seen: 1}, Shape{Values: []Hex{2, 1, 0}, Count: 1, Seen: 1})
		}, "syscalls[1] (socket): shapes[3] has the values of shapes[0]"},
		{"index twice", func(s *Syscall) { s.Args[1].Index = 0 }, "syscalls[1] (socket): args[1]: index 0 is listed twice"},
		{"shape seen above the syscall's", func(s *Syscall) { s.Shapes[1].Seen = 2 }, "syscalls[1] (socket): shapes[1]: seen 2 is not within 1..1"},
		{"shape never seen", func(s *Syscall) { s.Shapes[0].Seen = 0 }, "syscalls[1] (socket): shapes[0]: seen 0 is not within 1..1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := sample()
			tc.edit(&r.Syscalls[1])
			var b bytes.Buffer
			if err := (&jsonNoNormalize{r}).encode(&b); err != nil {
				t.Fatal(err)
			}
			_, err := Parse(b.Bytes())
			if err == nil || !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v, want an ErrFormat saying %q", err, tc.want)
			}
		})
	}
}
