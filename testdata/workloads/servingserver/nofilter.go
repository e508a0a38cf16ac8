//go:build !profgen_filter

package main

// filterName says which filter the server loads: none in this build.
const filterName = "none"

func install() error      { return nil }
func enterServing() error { return nil }
