package recording

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/internal/fileio"
	"github.com/profgen/profgen/internal/jsonerr"
)

// ErrFormat marks a recording that cannot be used: corrupt, incomplete, or
// written by a newer profgen.
var ErrFormat = errors.New("invalid recording")

// ReadFile reads and validates the recording at path, a regular file of at
// most fileio.MaxInput bytes, or "-" for standard input.
func ReadFile(path string) (*Recording, error) {
	data, err := fileio.ReadFile(path, 0, os.Stdin)
	if err != nil {
		return nil, fmt.Errorf("recording: %w", err)
	}
	r, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("recording %s: %w", path, err)
	}
	return r, nil
}

// Parse decodes and validates a recording.
func Parse(data []byte) (*Recording, error) {
	// Peek at the version first so that a newer format is reported as
	// such rather than as whatever field fails to decode.
	var head struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrFormat, jsonerr.Describe(data, err))
	}
	switch {
	case head.Version == nil:
		return nil, fmt.Errorf("%w: no \"version\" field (not a profgen recording?)", ErrFormat)
	case *head.Version > Version:
		return nil, fmt.Errorf("%w: format version %d is newer than this profgen reads (%d); upgrade profgen", ErrFormat, *head.Version, Version)
	case *head.Version < 1:
		return nil, fmt.Errorf("%w: bad format version %d", ErrFormat, *head.Version)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var r Recording
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrFormat, jsonerr.Describe(data, err))
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return &r, nil
}

// Validate checks that r is self-consistent and that every syscall name is
// known to libseccomp on r's architecture.
func (r *Recording) Validate() error {
	arch := abi.Arch(r.Arch)
	if _, err := arch.ScmpArch(); err != nil {
		return fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if r.Inputs < 1 {
		return fmt.Errorf("%w: inputs must be at least 1, not %d", ErrFormat, r.Inputs)
	}
	if r.EngineProfile != nil {
		if err := r.EngineProfile.validate(arch); err != nil {
			return err
		}
	}
	if err := r.validateSections(); err != nil {
		return err
	}
	if r.ReadyAtMs != nil && *r.ReadyAtMs < 0 {
		return fmt.Errorf("%w: readyAtMs %d is negative", ErrFormat, *r.ReadyAtMs)
	}
	if r.StoppedAtMs != nil && *r.StoppedAtMs < 0 {
		return fmt.Errorf("%w: stoppedAtMs %d is negative", ErrFormat, *r.StoppedAtMs)
	}
	if r.StoppedAtMs != nil && r.Version != 0 && r.Version < 3 {
		return fmt.Errorf("%w: stoppedAtMs needs format version 3, not %d", ErrFormat, r.Version)
	}
	if r.Workload != nil {
		if err := r.Workload.validate(); err != nil {
			return err
		}
	}
	prev := ""
	for i, s := range r.Syscalls {
		where := fmt.Sprintf("syscalls[%d] (%s)", i, s.Name)
		if s.Name <= prev {
			return fmt.Errorf("%w: %s: syscalls not sorted by name or duplicated", ErrFormat, where)
		}
		prev = s.Name
		nr, err := abi.SyscallNumber(arch, s.Name)
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrFormat, where, err)
		}
		if nr != s.Number {
			return fmt.Errorf("%w: %s: number %d, but %s is %d on %s", ErrFormat, where, s.Number, s.Name, nr, arch)
		}
		if s.Seen < 1 || s.Seen > r.Inputs {
			return fmt.Errorf("%w: %s: seen %d is not within 1..%d inputs", ErrFormat, where, s.Seen, r.Inputs)
		}
		if err := r.validateEvidence(&s.Evidence, s.Count, r.Inputs); err != nil {
			return fmt.Errorf("%w: %s: %v", ErrFormat, where, err)
		}
		var indices [6]bool
		for j, a := range s.Args {
			if a.Index < 0 || a.Index > 5 {
				return fmt.Errorf("%w: %s: args[%d]: index %d is not 0..5", ErrFormat, where, j, a.Index)
			}
			if indices[a.Index] {
				return fmt.Errorf("%w: %s: args[%d]: index %d is listed twice", ErrFormat, where, j, a.Index)
			}
			indices[a.Index] = true
			if a.Kind != KindEnum && a.Kind != KindFlags {
				return fmt.Errorf("%w: %s: args[%d]: unknown kind %q", ErrFormat, where, j, a.Kind)
			}
		}
		// Shapes in strictly increasing order (as Encode writes them)
		// are distinct; others are checked with a map.
		var shapes map[valuesKey]int
		for j, sh := range s.Shapes {
			if len(sh.Values) != len(s.Args) {
				return fmt.Errorf("%w: %s: shapes[%d] has %d values for %d args", ErrFormat, where, j, len(sh.Values), len(s.Args))
			}
			if shapes == nil && j > 0 && !lessValues(s.Shapes[j-1].Values, sh.Values) {
				shapes = make(map[valuesKey]int, len(s.Shapes))
				for k := range j {
					shapes[keyOf(s.Shapes[k].Values)] = k
				}
			}
			if shapes != nil {
				key := keyOf(sh.Values)
				if k, dup := shapes[key]; dup {
					return fmt.Errorf("%w: %s: shapes[%d] has the values of shapes[%d]", ErrFormat, where, j, k)
				}
				shapes[key] = j
			}
			if sh.Seen < 1 || sh.Seen > s.Seen {
				return fmt.Errorf("%w: %s: shapes[%d]: seen %d is not within 1..%d (the syscall's seen)", ErrFormat, where, j, sh.Seen, s.Seen)
			}
			if err := r.validateEvidence(&sh.Evidence, sh.Count, r.Inputs); err != nil {
				return fmt.Errorf("%w: %s: shapes[%d]: %v", ErrFormat, where, j, err)
			}
		}
	}
	return nil
}

// WriteFile writes r to path as indented JSON, the way fileio.Write does:
// a regular file is replaced only once all was written, "-" is standard
// output.
func (r *Recording) WriteFile(path string) error {
	return fileio.Write(path, os.Stdout, r.Encode)
}

// Encode writes r as indented JSON, in the format version this profgen
// writes (a recording read from an older version is written as the
// current one).
func (r *Recording) Encode(w io.Writer) error {
	r.Normalize()
	r.Version = Version
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
