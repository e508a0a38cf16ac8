package monitor

import (
	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/filter"
	"github.com/profgen/profgen/internal/audit"
	"github.com/profgen/profgen/internal/proc"
	"github.com/profgen/profgen/internal/seccomp"
)

// errnoFinder finds the errno number of an errno denial, which the
// kernel's audit record does not carry, by reading the caller's filters
// (PTRACE_SECCOMP_GET_FILTER) and running them in the BPF VM for the
// record's syscall and architecture. The arguments are not in the record
// either: they are taken as zero, and the number is reported only when
// the filters' combined verdict is the errno action the record shows.
type errnoFinder struct {
	// cache holds the filters of each process, by pid and start time (a
	// reused pid is another process); nil VMs when they cannot be read.
	cache map[int]cachedFilters
}

type cachedFilters struct {
	start uint64
	vms   []*filter.VM
}

func (e *errnoFinder) filters(pid int) []*filter.VM {
	st, err := proc.ReadStat(pid)
	if err != nil {
		return nil
	}
	start := st.Start
	if c, ok := e.cache[pid]; ok && c.start == start {
		return c.vms
	}
	var vms []*filter.VM
	if st, err := seccomp.ReadStatus(pid); err == nil && st.Mode == 2 {
		n := max(st.Filters, 1)
		for i := 0; i < n; i++ {
			prog, err := seccomp.GetFilter(pid, i)
			if err != nil {
				vms = nil
				break
			}
			vm, err := filter.NewVM(prog)
			if err != nil {
				vms = nil
				break
			}
			vms = append(vms, vm)
		}
	}
	if len(e.cache) > 4096 {
		clear(e.cache)
	}
	e.cache[pid] = cachedFilters{start: start, vms: vms}
	return vms
}

// find returns the errno the caller's filters return for rec's call, or
// false.
func (e *errnoFinder) find(rec audit.Record) (uint16, bool) {
	vms := e.filters(rec.Pid)
	if len(vms) == 0 {
		return 0, false
	}
	d := filter.SeccompData{Nr: int32(rec.Syscall), Arch: rec.Arch}
	// The kernel runs every filter and keeps the return value whose
	// action comes first (the lowest as a signed 32-bit number), the
	// most recent filter's on a tie.
	var best uint32
	for i := len(vms) - 1; i >= 0; i-- {
		ret, err := vms[i].Run(d)
		if err != nil {
			return 0, false
		}
		if i == len(vms)-1 || int32(ret&unix.SECCOMP_RET_ACTION_FULL) < int32(best&unix.SECCOMP_RET_ACTION_FULL) {
			best = ret
		}
	}
	if best&unix.SECCOMP_RET_ACTION_FULL != rec.Code&unix.SECCOMP_RET_ACTION_FULL || best&unix.SECCOMP_RET_ACTION_FULL != unix.SECCOMP_RET_ERRNO {
		return 0, false
	}
	return uint16(best & unix.SECCOMP_RET_DATA), true
}
