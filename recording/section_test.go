package recording

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// withTestKind adds to SectionKinds, for the test, a kind "paths" whose
// section is a sorted set of strings and whose merge is the union (an
// input without the section adds nothing).
func withTestKind(t *testing.T) {
	t.Helper()
	decode := func(raw json.RawMessage) ([]string, error) {
		var set []string
		if err := json.Unmarshal(raw, &set); err != nil {
			return nil, err
		}
		if !slices.IsSorted(set) || len(slices.Compact(slices.Clone(set))) != len(set) {
			return nil, errors.New("not a sorted set")
		}
		return set, nil
	}
	SectionKinds["paths"] = SectionKind{
		Help: "test: paths seen",
		Validate: func(raw json.RawMessage) error {
			_, err := decode(raw)
			return err
		},
		Merge: func(in []json.RawMessage) (json.RawMessage, error) {
			var all []string
			for _, raw := range in {
				if raw == nil {
					continue
				}
				set, err := decode(raw)
				if err != nil {
					return nil, err
				}
				all = append(all, set...)
			}
			slices.Sort(all)
			return json.Marshal(slices.Compact(all))
		},
	}
	t.Cleanup(func() { delete(SectionKinds, "paths") })
}

// v1 is sample() as format version 1 wrote it.
func v1(t *testing.T) []byte {
	t.Helper()
	data := encode(t, sample())
	old := bytes.Replace(data, []byte(`"version": 3`), []byte(`"version": 1`), 1)
	if bytes.Equal(old, data) {
		t.Fatalf("sample has no version 3:\n%s", data)
	}
	return old
}

// TestReadVersion1: a version 1 recording is read as it was, and written
// back as version 2 with nothing else changed.
func TestReadVersion1(t *testing.T) {
	data := v1(t)
	r, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if r.Version != 1 || r.Sections != nil {
		t.Errorf("version %d, sections %v; want 1 and none", r.Version, r.Sections)
	}
	out := encode(t, r)
	if want := encode(t, sample()); !bytes.Equal(out, want) {
		t.Errorf("version 1 written back as\n%s\nwant\n%s", out, want)
	}
}

// TestSections: a version 2 recording carries sections of known kinds
// through a round trip; sections of an unknown kind, invalid ones, and
// sections in a version 1 recording are refused.
func TestSections(t *testing.T) {
	withTestKind(t)
	r := sample()
	r.Sections = map[string]json.RawMessage{"paths": json.RawMessage(`["/etc", "/usr"]`)}
	data := encode(t, r)
	back, err := Parse(data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	var got bytes.Buffer
	if err := json.Compact(&got, back.Sections["paths"]); err != nil || got.String() != `["/etc","/usr"]` {
		t.Errorf("paths section read back as %s (%v)", back.Sections["paths"], err)
	}
	if again := encode(t, back); !bytes.Equal(again, data) {
		t.Errorf("round trip changed the recording:\n%s\n---\n%s", data, again)
	}
	for _, tc := range []struct {
		name, old, new, want string
	}{
		{"unknown kind", `"paths"`, `"ports"`, `sections: unknown kind "ports"`},
		{"invalid", `"/usr"`, `"/a"`, "sections: paths: not a sorted set"},
		{"version 1", `"version": 3`, `"version": 1`, `"sections" needs format version 2, not 1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(strings.Replace(string(data), tc.old, tc.new, 1)))
			if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v, want an ErrFormat saying %q", err, tc.want)
			}
		})
	}
}

// TestMergeVersions: recordings of versions 1 and 2, with and without
// sections, merge in any order into one version 2 recording whose
// sections are each kind's merge.
func TestMergeVersions(t *testing.T) {
	withTestKind(t)
	old, err := Parse(v1(t))
	if err != nil {
		t.Fatal(err)
	}
	a, b := sample(), sample()
	a.Sections = map[string]json.RawMessage{"paths": json.RawMessage(`["/etc","/usr"]`)}
	b.Sections = map[string]json.RawMessage{"paths": json.RawMessage(`["/tmp","/usr"]`)}
	var first []byte
	for i, order := range [][]*Recording{{old, a, b}, {b, old, a}, {a, b, old}} {
		m, err := Merge(order...)
		if err != nil {
			t.Fatal(err)
		}
		if m.Version != Version || m.Inputs != 3 {
			t.Errorf("order %d: version %d, inputs %d; want %d, 3", i, m.Version, m.Inputs, Version)
		}
		if got := string(m.Sections["paths"]); got != `["/etc","/tmp","/usr"]` {
			t.Errorf("order %d: merged paths %s", i, got)
		}
		data := encode(t, m)
		if _, err := Parse(data); err != nil {
			t.Errorf("order %d: merge does not read back: %v", i, err)
		}
		if first == nil {
			first = data
		} else if !bytes.Equal(first, data) {
			t.Errorf("order %d: merge differs from order 0", i)
		}
	}
	m, err := Merge(old, old)
	if err != nil || m.Version != Version || m.Sections != nil {
		t.Errorf("merge of two version 1 recordings: version %v, sections %v, %v", m.Version, m.Sections, err)
	}
}

// TestMergeSectionFails: a kind's merge that fails fails Merge, naming
// the kind.
func TestMergeSectionFails(t *testing.T) {
	withTestKind(t)
	k := SectionKinds["paths"]
	k.Merge = func([]json.RawMessage) (json.RawMessage, error) { return nil, fmt.Errorf("no way") }
	SectionKinds["paths"] = k
	a := sample()
	a.Sections = map[string]json.RawMessage{"paths": json.RawMessage(`[]`)}
	if _, err := Merge(a, sample()); err == nil || err.Error() != "merge: sections: paths: no way" {
		t.Errorf("err = %v", err)
	}
}
