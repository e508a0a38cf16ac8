package trace

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	iseccomp "github.com/profgen/profgen/internal/seccomp"
	"github.com/profgen/profgen/internal/testenv"
	"github.com/profgen/profgen/recording"
)

// TestBackendTable: every built-in backend is in the table once, the
// table's names are what the backends call themselves, and an unknown
// name is refused listing the known ones.
func TestBackendTable(t *testing.T) {
	if got := BackendNames(); len(got) != 2 || got[0] != string(recording.BackendEBPF) || got[1] != string(recording.BackendLog) {
		t.Fatalf("BackendNames() = %q, want [ebpf log]", got)
	}
	for _, name := range BackendNames() {
		spec, err := LookupBackend(name)
		if err != nil || string(spec.Name) != name || spec.New == nil || spec.Help == "" {
			t.Errorf("LookupBackend(%q) = %+v, %v", name, spec, err)
		}
		if !strings.Contains(BackendHelp(), name+": ") {
			t.Errorf("BackendHelp() %q does not describe %s", BackendHelp(), name)
		}
	}
	_, err := LookupBackend("strace")
	if err == nil || err.Error() != `unknown backend "strace" (want ebpf or log)` {
		t.Errorf("LookupBackend(strace): %v", err)
	}
	if spec, _ := LookupBackend(string(recording.BackendEBPF)); spec.Filter {
		t.Error("the ebpf backend claims to take a filter")
	}
	if spec, _ := LookupBackend(string(recording.BackendLog)); !spec.Filter {
		t.Error("the log backend does not take a filter")
	}
}

// TestBackendTableNew constructs each backend through the table on the
// real kernel, checks it names itself as the table does, and closes it.
func TestBackendTableNew(t *testing.T) {
	for _, spec := range Backends {
		b, err := spec.New(BackendConfig{})
		if errors.Is(err, ErrNotSupported) {
			if spec.Name == recording.BackendEBPF {
				testenv.EBPFUnsupported(t, err)
			}
			testenv.AuditUnsupported(t, err)
		}
		if err != nil {
			t.Fatalf("%s: %v", spec.Name, err)
		}
		if b.Name() != spec.Name {
			t.Errorf("table entry %s makes a backend named %s", spec.Name, b.Name())
		}
		if err := b.Close(); err != nil {
			t.Errorf("%s: close: %v", spec.Name, err)
		}
		// Closed objects say so with os.ErrClosed.
		if _, err := b.Collect(); !errors.Is(err, os.ErrClosed) {
			t.Errorf("%s: Collect after Close: %v, want os.ErrClosed", spec.Name, err)
		}
		if err := b.Prepare(&Target{Cmd: exec.Command("true")}); !errors.Is(err, os.ErrClosed) {
			t.Errorf("%s: Prepare after Close: %v, want os.ErrClosed", spec.Name, err)
		}
	}
	ebpf, _ := LookupBackend(string(recording.BackendEBPF))
	if b, err := ebpf.New(BackendConfig{Filter: iseccomp.LogAll()}); err == nil {
		b.Close()
		t.Error("the ebpf backend accepted a filter")
	}
}
