package argspec

import (
	"testing"

	"github.com/profgen/profgen/recording"
)

// TestTableArch: every argument in the table says what its values mean on
// other architectures, and why.
func TestTableArch(t *testing.T) {
	for _, e := range Table {
		for _, a := range e.Args {
			if a.Arch != Same && a.Arch != OpenFlags {
				t.Errorf("%s arg%d (%s): Arch %d does not say what its values mean on other architectures", e.Syscall, a.Index, a.Name, a.Arch)
			}
			if a.ArchWhy == "" {
				t.Errorf("%s arg%d (%s): Arch has no reason", e.Syscall, a.Index, a.Name)
			}
		}
	}
}

// TestTableNames: the symbolic names of an argument's values are distinct
// and within its mask, but an enum's flags, wholly outside it.
func TestTableNames(t *testing.T) {
	for _, e := range Table {
		for _, a := range e.Args {
			seen := map[string]bool{}
			for _, n := range a.Names {
				if a.Kind == recording.KindEnum && n.Value != 0 && n.Value&a.Mask == 0 {
					continue // a flag that may come with any value
				}
				if n.Name == "" || seen[n.Name] {
					t.Errorf("%s arg%d: name %q empty or listed twice", e.Syscall, a.Index, n.Name)
				}
				seen[n.Name] = true
				if n.Value&^a.Mask != 0 {
					t.Errorf("%s arg%d: %s = %#x has bits outside the mask %#x", e.Syscall, a.Index, n.Name, n.Value, a.Mask)
				}
			}
		}
	}
}

// TestLookup finds every argument of the table, and no other.
func TestLookup(t *testing.T) {
	for _, e := range Table {
		for _, a := range e.Args {
			if got := Lookup(e.Syscall, a.Index); got == nil || got.Name != a.Name {
				t.Errorf("Lookup(%s, %d) = %v", e.Syscall, a.Index, got)
			}
		}
	}
	if Lookup("socket", 3) != nil || Lookup("read", 0) != nil {
		t.Error("Lookup finds an argument the table does not list")
	}
}
