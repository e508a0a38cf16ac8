package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestREADMEDemoPort: README says, near its first commands, where `make
// demo` serves (the default of scripts/demo.sh's DEMO_PORT) and how to
// change it, so that a newcomer whose port is taken is not lost.
func TestREADMEDemoPort(t *testing.T) {
	script, err := os.ReadFile("../../scripts/demo.sh")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`port=\$\{DEMO_PORT:-([0-9]+)\}`).FindSubmatch(script)
	if m == nil {
		t.Fatal("scripts/demo.sh has no port=${DEMO_PORT:-N}")
	}
	addr := regexp.MustCompile(`addr=([0-9.]+):\$port`).FindSubmatch(script)
	if addr == nil {
		t.Fatal("scripts/demo.sh has no addr=HOST:$port")
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	// Before the first section: next to `make demo` itself.
	top, _, _ := strings.Cut(string(readme), "\n## ")
	for _, want := range []string{string(addr[1]) + ":" + string(m[1]), "DEMO_PORT"} {
		if !strings.Contains(top, want) {
			t.Errorf("README's top commands do not say %s", want)
		}
	}
}
