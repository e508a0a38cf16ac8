package replay

import (
	"testing"

	"github.com/profgen/profgen/internal/engine"
	"github.com/profgen/profgen/learn"
)

// TestStarters checks that every row of the engine table live replay runs
// in a container has its start function, and no start function is without
// its row.
func TestStarters(t *testing.T) {
	for _, e := range engine.Replayable() {
		if _, ok := starters[e.Name]; ok != e.Container {
			t.Errorf("engine %s: start function %v, runs in a container %v", e.Name, ok, e.Container)
		}
	}
	for n := range starters {
		if e, ok := engine.Lookup(n); !ok || !e.Replay {
			t.Errorf("start function for %s, which the engine table does not replay", n)
		}
	}
}

// TestEngineLoaders checks that each engine's filter loader is one learn
// knows the own calls of.
func TestEngineLoaders(t *testing.T) {
	for _, e := range engine.Engines {
		if _, err := learn.ParseLoader(e.Loader); err != nil {
			t.Errorf("engine %s: %v", e.Name, err)
		}
	}
}
