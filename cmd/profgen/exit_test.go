package main

import (
	"testing"

	"github.com/profgen/profgen/internal/exitcode"
)

// TestExitStatuses: each command's own failures, flag errors included,
// exit with the status internal/exitcode names for that command; record's
// target statuses pass through and its own is distinct from them.
func TestExitStatuses(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want int
	}{
		{[]string{"record", "--no-such-flag", "--", "true"}, exitcode.Tool},
		{[]string{"record", "--backend", "strace", "--", "true"}, exitcode.Tool},
		{[]string{"record", "--", "no-such-command-profgen"}, exitcode.Tool},
		{[]string{"record", "-o", "r.json", "--", "sh", "-c", "exit 1"}, 1},
		{[]string{"record", "-o", "r.json", "--", "sh", "-c", "exit 125"}, 125},
		{[]string{"emit", "--no-such-flag"}, exitcode.Failed},
		{[]string{"emit", "missing.json"}, exitcode.Failed},
		{[]string{"merge"}, exitcode.Failed},
		{[]string{"diff", "--no-such-flag", "a", "b"}, exitcode.Error},
		{[]string{"diff", "a"}, exitcode.Error},
		{[]string{"replay", "--no-such-flag"}, exitcode.Error},
		{[]string{"replay", "--static", "--profile", "missing.json", "x.json"}, exitcode.Error},
		{[]string{"replay", "--ready", "delay:1s", "--profile", "p.json", "--", "true"}, exitcode.Error},
		{[]string{"no-such-command"}, exitcode.Failed},
	} {
		if r := runProfgen(t, dir, c.args...); r.code != c.want {
			t.Errorf("profgen %v: exit %d, want %d; stderr %q", c.args, r.code, c.want, r.stderr)
		}
	}
}
