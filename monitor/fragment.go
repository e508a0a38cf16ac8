package monitor

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/recording"
)

// Fragment returns what the monitor saw of the native ABI as a recording
// (names only, like the log backend's): `profgen emit` learns a profile
// from it, `profgen merge` unites it with others. base, when set, is the
// profile the monitored workload ran under; emit then adds what the
// fragment holds to it. Calls through other ABIs are counted in a note,
// not recorded.
//
// pinned names the syscalls base allows only with argument rules. A
// seccomp audit record carries no argument values, so a record of one of
// them says that some values outside those rules were called, not which:
// recording it by name would let emit allow it with any arguments,
// wider than what the records show. Those are left out of the fragment
// and named in a note instead.
func (m *Monitor) Fragment(tool, base string, pinned map[string]bool) (*recording.Recording, error) {
	var uts unix.Utsname
	if err := unix.Uname(&uts); err != nil {
		return nil, fmt.Errorf("uname: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	lost := m.currentLost()
	rec := &recording.Recording{
		Version: recording.Version,
		Tool:    tool,
		Kernel:  unix.ByteSliceToString(uts.Release[:]),
		Arch:    string(m.native),
		Backend: recording.BackendLog,
		Scope:   recording.ScopeSeccomp,
		Command: os.Args,
		Start:   m.start.UTC(),
		End:     time.Now().UTC(),
		Lost:    max(lost.Missed, lost.Overruns) + lost.Malformed + lost.Unattributed,
		Inputs:  1,
		Base:    base,
	}
	rec.Notes = append(rec.Notes, "recorded by profgen monitor from seccomp audit records: only calls the filter logged or denied with logging are here")
	foreign := uint64(0)
	for k, n := range m.bySyscall {
		if len(k) < len(m.native)+1 || k[:len(m.native)+1] != string(m.native)+"/" {
			foreign += n
		}
	}
	if foreign > 0 {
		rec.Notes = append(rec.Notes, fmt.Sprintf("%d calls through an ABI other than the native %s were seen but not recorded", foreign, m.native))
	}
	var held []string
	for nr, n := range m.seen {
		name, err := abi.SyscallName(m.native, nr)
		if err != nil {
			return nil, err
		}
		if pinned[name] {
			held = append(held, fmt.Sprintf("%s (%d calls)", name, n))
			continue
		}
		rec.Syscalls = append(rec.Syscalls, recording.Syscall{Name: name, Number: nr, Count: n, Seen: 1})
	}
	if len(held) > 0 {
		sort.Strings(held)
		rec.Notes = append(rec.Notes, fmt.Sprintf("left out %s: the base profile allows them only with argument rules and the audit records carry no argument values, so which values were refused is unknown and allowing them by name would drop those rules; record the workload with the eBPF backend (profgen record) to learn the values", strings.Join(held, ", ")))
	}
	sort.Slice(rec.Syscalls, func(i, j int) bool { return rec.Syscalls[i].Name < rec.Syscalls[j].Name })
	if err := rec.Validate(); err != nil {
		return nil, err
	}
	return rec, nil
}
