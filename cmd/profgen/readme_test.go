package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestREADMECommandTable: every flag README's command table names is a
// flag of that command, and every value it lists for a flag (--runtime
// runc|podman|docker|none) is one the flag's help names, so the table
// cannot go on naming what the CLI no longer has.
func TestREADMECommandTable(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `profgen ([a-z]+) ([^`]*)`")
	flag := regexp.MustCompile(`(--[a-z][a-z-]*)(?: ([a-z0-9_-]+(?:\\\|[a-z0-9_-]+)+))?`)
	rows := row.FindAllStringSubmatch(string(data), -1)
	if len(rows) < 8 {
		t.Fatalf("README's command table has %d rows", len(rows))
	}
	root := newRootCmd()
	for _, r := range rows {
		cmd, _, err := root.Find([]string{r[1]})
		if err != nil || cmd == root {
			t.Errorf("README lists profgen %s, which is no command", r[1])
			continue
		}
		for _, m := range flag.FindAllStringSubmatch(r[2], -1) {
			f := cmd.Flags().Lookup(strings.TrimPrefix(m[1], "--"))
			if f == nil {
				t.Errorf("README: profgen %s has no flag %s", r[1], m[1])
				continue
			}
			if m[2] == "" {
				continue
			}
			for _, v := range strings.Split(m[2], `\|`) {
				if !regexp.MustCompile(`\b` + regexp.QuoteMeta(v) + `\b`).MatchString(f.Usage) {
					t.Errorf("README: profgen %s %s %s: the flag's help (%q) does not name %s", r[1], m[1], m[2], f.Usage, v)
				}
			}
		}
	}
}
