//go:build profgen_filter

package main

import (
	"fmt"

	"github.com/profgen/profgen/testdata/workloads/servingserver/seccompprofile"
)

// filterName says which filter the server loads: profgen's.
const filterName = "profgen"

// install loads the filter profgen learned from the whole run.
func install() error {
	if err := seccompprofile.Install(); err != nil {
		return fmt.Errorf("install: %w", err)
	}
	return nil
}

// enterServing stacks the serving phase's filter.
func enterServing() error {
	if err := seccompprofile.EnterServing(); err != nil {
		return fmt.Errorf("enter serving: %w", err)
	}
	return nil
}
