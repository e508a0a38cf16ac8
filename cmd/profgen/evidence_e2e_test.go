package main

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/profgen/profgen/recording"
)

// TestRecordRedisEvidence is issue 19's redis case: Debian's redis-server
// recorded with --ready and driven: every call names the executable as the
// process was started, /usr/bin/redis-server (a link to redis-check-rdb,
// named by the link as the process saw it), bind and listen are counted
// in startup only, accept4 (or accept) and epoll_wait in serving, and
// readyAtMs says when the phases changed.
func TestRecordRedisEvidence(t *testing.T) {
	rec, exe := recordRedis(t, t.TempDir())
	if filepath.Base(exe) != "redis-server" {
		t.Fatalf("redis-server found as %s", exe)
	}
	if rec.ReadyAtMs == nil {
		t.Fatal("no readyAtMs in a --ready recording")
	}
	for _, s := range rec.Syscalls {
		if s.Name == "execve" {
			continue // the launcher's exec of redis, and none of redis's own
		}
		if !slices.Contains(s.Exes, exe) {
			t.Errorf("%s: exes %v lack %s", s.Name, s.Exes, exe)
		}
	}
	phases := func(name string) map[string]uint64 {
		s := rec.Lookup(name)
		if s == nil {
			t.Fatalf("no %s in %v", name, rec.Names())
		}
		return s.Phases
	}
	for _, name := range []string{"bind", "listen"} {
		if ph := phases(name); ph[recording.PhaseStartup] == 0 || ph[recording.PhaseServing] != 0 {
			t.Errorf("%s: phases %v, want startup only", name, ph)
		}
	}
	accept := "accept4"
	if rec.Lookup(accept) == nil {
		accept = "accept"
	}
	for _, name := range []string{accept, "epoll_wait"} {
		if ph := phases(name); ph[recording.PhaseServing] == 0 {
			t.Errorf("%s: phases %v, want calls in serving", name, ph)
		}
	}
}
