package recording

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
)

// SectionKind is one kind of policy section a recording may carry beside
// its syscalls (Recording.Sections): what a backend observed for a policy
// other than seccomp. Adding a policy kind's observations to recordings is
// one entry of SectionKinds.
type SectionKind struct {
	// Help says in a line what the section holds.
	Help string
	// Validate checks one section, as Parse and Merge do for every
	// recording: a section this profgen would not read back is refused.
	Validate func(section json.RawMessage) error
	// Merge unites the sections of the inputs of a merge: one entry per
	// input, in input order, nil for an input without this section (its
	// recorder did not observe this kind). It is called only when some
	// input has one; its result must pass Validate, and must not depend
	// on the order of the inputs (Merge is associative and commutative).
	Merge func(sections []json.RawMessage) (json.RawMessage, error)
}

// SectionKinds names every section kind this profgen reads and writes:
// seccomp's observations are Recording.Syscalls, Landlock's the section
// LandlockKind (landlock.go). A recording holding a section of another
// kind is refused, as an unknown field is.
var SectionKinds = map[string]SectionKind{}

// validateSections checks r's sections: allowed from format version 2 on,
// each of a known kind and valid for it.
func (r *Recording) validateSections() error {
	if len(r.Sections) == 0 {
		return nil
	}
	if r.Version < 2 {
		return fmt.Errorf("%w: \"sections\" needs format version 2, not %d", ErrFormat, r.Version)
	}
	for _, kind := range sectionNames(r.Sections) {
		k, ok := SectionKinds[kind]
		if !ok {
			return fmt.Errorf("%w: sections: unknown kind %q (written by a newer profgen?)", ErrFormat, kind)
		}
		if err := k.Validate(r.Sections[kind]); err != nil {
			return fmt.Errorf("%w: sections: %s: %v", ErrFormat, kind, err)
		}
	}
	return nil
}

// mergeSections unites the sections of recs, kind by kind; nil when none
// has any.
func mergeSections(recs []*Recording) (map[string]json.RawMessage, error) {
	kinds := map[string]bool{}
	for _, r := range recs {
		for kind := range r.Sections {
			kinds[kind] = true
		}
	}
	if len(kinds) == 0 {
		return nil, nil
	}
	out := make(map[string]json.RawMessage, len(kinds))
	for _, kind := range sectionNames(kinds) {
		k, ok := SectionKinds[kind]
		if !ok {
			return nil, fmt.Errorf("merge: sections: unknown kind %q", kind)
		}
		in := make([]json.RawMessage, len(recs))
		for i, r := range recs {
			in[i] = r.Sections[kind]
		}
		merged, err := k.Merge(in)
		if err != nil {
			return nil, fmt.Errorf("merge: sections: %s: %w", kind, err)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, merged); err != nil {
			return nil, fmt.Errorf("merge: sections: %s: %w", kind, err)
		}
		out[kind] = compact.Bytes()
	}
	return out, nil
}

// sectionNames returns m's keys, sorted.
func sectionNames[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
