package trace

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/profgen/profgen/recording"
)

// fakeObserver is a fakeBackend that also observes for another policy
// kind (Observer).
type fakeObserver struct {
	fakeBackend
	sections map[string]json.RawMessage
	err      error
}

var _ Observer = (*fakeObserver)(nil)

func (f *fakeObserver) Sections() (map[string]json.RawMessage, error) { return f.sections, f.err }

// withSectionKind adds a section kind "test" to recording.SectionKinds for
// the test: any JSON array.
func withSectionKind(t *testing.T) {
	t.Helper()
	recording.SectionKinds["test"] = recording.SectionKind{
		Help: "test",
		Validate: func(raw json.RawMessage) error {
			var v []any
			return json.Unmarshal(raw, &v)
		},
		Merge: func([]json.RawMessage) (json.RawMessage, error) { return json.RawMessage(`[]`), nil },
	}
	t.Cleanup(func() { delete(recording.SectionKinds, "test") })
}

// TestObserverSections: the sections of a backend that is an Observer
// are the recording's, validated as a reader would; a backend's failure to
// give them, or a section of a kind no profgen knows, fails Record.
func TestObserverSections(t *testing.T) {
	withSectionKind(t)
	f := &fakeObserver{sections: map[string]json.RawMessage{"test": json.RawMessage(`["x"]`)}}
	f.obs.Counts = map[Key]uint64{{Nr: 0}: 1}
	res := recordFake(t, &f.fakeBackend, Options{Command: []string{"true"}})
	if res.Recording.Sections != nil {
		t.Errorf("a backend that is no Observer gave sections %v", res.Recording.Sections)
	}

	res, err := Record(context.Background(), Options{Command: []string{"true"}, Backend: f, NoCgroup: true, Tool: "profgen test"})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(res.Recording.Sections["test"]); got != `["x"]` {
		t.Errorf("recording's test section is %s, want [\"x\"]", got)
	}
	if res.Recording.Version != recording.Version {
		t.Errorf("version %d", res.Recording.Version)
	}

	f.err = errors.New("no luck")
	if _, err := Record(context.Background(), Options{Command: []string{"true"}, Backend: f, NoCgroup: true}); err == nil || err.Error() != "collect sections from fake backend: no luck" {
		t.Errorf("failing Sections: %v", err)
	}
	f.err = nil
	f.sections = map[string]json.RawMessage{"ports": json.RawMessage(`[]`)}
	if _, err := Record(context.Background(), Options{Command: []string{"true"}, Backend: f, NoCgroup: true}); err == nil || !strings.Contains(err.Error(), `unknown kind "ports"`) {
		t.Errorf("section of an unknown kind: %v", err)
	}
}
