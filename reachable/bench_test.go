package reachable

import (
	"os/exec"
	"testing"
)

// The speed goals of docs/reachable.md (a server with its libraries in
// under 10 s cold, under 1 s from the cache) are measured here, never
// asserted by a timed test:
//
//	go test ./reachable -run - -bench Analyze -benchtime 3x

func benchServer(b *testing.B) string {
	exe, err := exec.LookPath("redis-server")
	if err != nil {
		b.Fatalf("redis-server: %v (scripts/deps.sh installs it)", err)
	}
	return exe
}

// BenchmarkAnalyzeCold analyses redis-server, its libraries, the loader and
// the vDSO with no cache.
func BenchmarkAnalyzeCold(b *testing.B) {
	exe := benchServer(b)
	for b.Loop() {
		if _, err := Analyze(exe, Options{CacheDir: "-"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAnalyzeCached analyses redis-server from a cache filled once
// before the timer starts.
func BenchmarkAnalyzeCached(b *testing.B) {
	exe := benchServer(b)
	dir := b.TempDir()
	if _, err := Analyze(exe, Options{CacheDir: dir}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Analyze(exe, Options{CacheDir: dir}); err != nil {
			b.Fatal(err)
		}
	}
}
