package trace

import (
	"errors"
	"fmt"
	"strings"

	"github.com/profgen/profgen/recording"
)

// BackendConfig is what every constructor of the Backends table takes.
type BackendConfig struct {
	// Filter, when not nil, is the seccomp program (raw struct
	// sock_filter, see LogOptions.Filter) the target runs under: what it
	// answers with SECCOMP_RET_LOG is recorded. Only a backend whose
	// BackendSpec.Filter is set takes one; the others refuse it.
	Filter []byte
	// MaxShapes sizes the map of a backend that counts (syscall, argument
	// shape) pairs in a bounded kernel map; 0 means its default.
	MaxShapes uint32
	// Paths asks the backend to record, beside the syscalls, what
	// Landlock governs (the recording's landlock section); a backend that
	// cannot says so in a note of the recording.
	Paths bool
}

// BackendSpec describes one backend of the Backends table.
type BackendSpec struct {
	// Name is what --backend takes and what the recording's backend
	// field says.
	Name recording.BackendName
	// Help says in a few words how it records and what it needs.
	Help string
	// Filter tells whether the backend runs the target under a seccomp
	// filter given in BackendConfig.Filter (record --base).
	Filter bool
	// New constructs the backend. The caller closes it.
	New func(BackendConfig) (Backend, error)
}

// Backends lists the built-in backends, the default first. A new backend
// is one entry here: the CLI's --backend help, validation and errors come
// from this table.
var Backends = []BackendSpec{
	{
		Name: recording.BackendEBPF,
		Help: "count syscalls in the kernel from the sys_enter raw tracepoint (root, or CAP_BPF and CAP_PERFMON)",
		New: func(c BackendConfig) (Backend, error) {
			if c.Filter != nil {
				return nil, errors.New("the ebpf backend cannot run the target under a seccomp filter")
			}
			e, err := NewEBPF(EBPFOptions{MaxEntries: c.MaxShapes, Paths: c.Paths})
			if err != nil {
				return nil, err
			}
			return e, nil
		},
	},
	{
		Name:   recording.BackendLog,
		Help:   "run the target under a seccomp SCMP_ACT_LOG filter and read its audit records (root, or CAP_AUDIT_READ)",
		Filter: true,
		New: func(c BackendConfig) (Backend, error) {
			l, err := NewLog(LogOptions{Filter: c.Filter, Paths: c.Paths})
			if err != nil {
				return nil, err
			}
			return l, nil
		},
	},
}

// BackendNames returns the names of Backends, in order.
func BackendNames() []string {
	names := make([]string, len(Backends))
	for i, b := range Backends {
		names[i] = string(b.Name)
	}
	return names
}

// LookupBackend returns the entry of Backends named name. An unknown name
// is an error that lists the known ones.
func LookupBackend(name string) (BackendSpec, error) {
	for _, b := range Backends {
		if string(b.Name) == name {
			return b, nil
		}
	}
	return BackendSpec{}, fmt.Errorf("unknown backend %q (want %s)", name, orList(BackendNames()))
}

// BackendHelp describes Backends for a flag's help: "NAME: HELP" per
// backend, separated by semicolons.
func BackendHelp() string {
	var b strings.Builder
	for i, s := range Backends {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(string(s.Name))
		b.WriteString(": ")
		b.WriteString(s.Help)
	}
	return b.String()
}

// orList joins names as "a, b or c".
func orList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
