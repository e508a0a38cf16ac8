package main

import (
	"errors"
	"fmt"

	"github.com/profgen/profgen/filter"
	"github.com/profgen/profgen/trace"
)

// Library errors never name a flag; the advice about profgen's own flags
// is added here, from what the error is (errors.Is, errors.As).

// backendAdvice adds "try --backend OTHER" to an error that means the
// --backend in use is not supported here, naming the first other backend
// that can record as asked (one that takes a filter, with --base).
func backendAdvice(err error, backend string, base bool) error {
	if !errors.Is(err, trace.ErrNotSupported) {
		return err
	}
	for _, b := range trace.Backends {
		if string(b.Name) != backend && (!base || b.Filter) {
			return fmt.Errorf("%w; try --backend %s", err, b.Name)
		}
	}
	return err
}

// filterAdvice adds what shortens a profile's filter to an error that
// says it is longer than the kernel takes.
func filterAdvice(err error) error {
	if errors.Is(err, filter.ErrFilterTooLong) {
		return fmt.Errorf("%w; use fewer argument rules: try emit --args none or a lower --max-values", err)
	}
	return err
}
