package trace

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// syscallEvents attaches prog to the exit event of each syscall in names
// (syscalls/sys_exit_NAME): the kernel then runs it on those syscalls'
// returns only, where a program on the raw tracepoint sys_exit runs on
// every syscall of the machine. It returns the perf event descriptors,
// whose closing detaches it. The events' ids are read from tracefs, or,
// where it is not mounted, from a mount of its own in a mount namespace of
// one thread (nothing is mounted for the rest of the machine).
func syscallEvents(prog *ebpf.Program, names []string) ([]int, error) {
	ids, err := syscallExitIDs(names)
	if err != nil {
		return nil, err
	}
	var fds []int
	fail := func(err error) ([]int, error) {
		closeEvents(fds)
		return nil, err
	}
	for _, name := range names {
		id, ok := ids[name]
		if !ok {
			continue // not a syscall of this kernel's table
		}
		attr := unix.PerfEventAttr{Type: unix.PERF_TYPE_TRACEPOINT, Config: id, Sample_type: unix.PERF_SAMPLE_RAW, Sample: 1, Wakeup: 1}
		attr.Size = uint32(unsafeSizeofPerfAttr)
		fd, err := unix.PerfEventOpen(&attr, -1, 0, -1, unix.PERF_FLAG_FD_CLOEXEC)
		if err != nil {
			return fail(fmt.Errorf("open the exit event of %s: %w", name, err))
		}
		fds = append(fds, fd)
		if err := unix.IoctlSetInt(fd, unix.PERF_EVENT_IOC_SET_BPF, prog.FD()); err != nil {
			return fail(fmt.Errorf("attach to the exit event of %s: %w", name, err))
		}
		if err := unix.IoctlSetInt(fd, unix.PERF_EVENT_IOC_ENABLE, 0); err != nil {
			return fail(fmt.Errorf("enable the exit event of %s: %w", name, err))
		}
	}
	if len(fds) == 0 {
		return nil, errors.New("no syscall exit event found")
	}
	return fds, nil
}

var unsafeSizeofPerfAttr = unix.PERF_ATTR_SIZE_VER5

// closeEvents closes perf events at once: the kernel waits for RCU grace
// periods as each syscall event is released (about 80 ms here), which
// closes running side by side partly share.
func closeEvents(fds []int) {
	var wg sync.WaitGroup
	for _, fd := range fds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			unix.Close(fd)
		}()
	}
	wg.Wait()
}

// syscallExitIDs reads the ids of the syscalls' exit events.
func syscallExitIDs(names []string) (map[string]uint64, error) {
	for _, dir := range []string{"/sys/kernel/tracing", "/sys/kernel/debug/tracing"} {
		if ids, err := readExitIDs(dir, names); err == nil {
			return ids, nil
		}
	}
	type result struct {
		ids map[string]uint64
		err error
	}
	ch := make(chan result, 1)
	go func() {
		// Never unlocked: the thread, in a mount namespace of its own,
		// ends with the goroutine.
		runtime.LockOSThread()
		ids, err := func() (map[string]uint64, error) {
			if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
				return nil, fmt.Errorf("unshare the mount namespace: %w", err)
			}
			if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
				return nil, fmt.Errorf("make the mounts private: %w", err)
			}
			const dir = "/sys/kernel/tracing"
			if err := unix.Mount("tracefs", dir, "tracefs", 0, ""); err != nil {
				return nil, fmt.Errorf("mount tracefs: %w", err)
			}
			return readExitIDs(dir, names)
		}()
		ch <- result{ids, err}
	}()
	r := <-ch
	return r.ids, r.err
}

func readExitIDs(dir string, names []string) (map[string]uint64, error) {
	ids := map[string]uint64{}
	base := dir + "/events/syscalls"
	if _, err := os.Stat(base); err != nil {
		return nil, err
	}
	for _, name := range names {
		b, err := os.ReadFile(base + "/sys_exit_" + name + "/id")
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		id, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s/sys_exit_%s/id: %w", base, name, err)
		}
		ids[name] = id
	}
	return ids, nil
}
