package trace

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// The shared sys_enter program (bpf/dispatch.c).
//
// Every program attached to the raw tracepoint sys_enter runs on every
// syscall of the machine: 8 recordings that each attached their own would
// make every syscall, theirs included, pay 8 programs' entry cost. So
// cgroup-mode recordings share one attached program, profgen_dispatch, in
// 16 slots: each puts its own recorder program (profgen_enter) and its
// cgroup in a free slot, and the dispatcher tail-calls the slot whose
// cgroup the current task is in, with that cgroup and the task's status in
// a per-CPU scratch map, so that the recorder makes no helper call.
//
// Processes share it too, and nothing outlives them: the dispatcher is not
// pinned, it stays attached as long as some process holds a descriptor of
// its link, and the kernel closes those of a process that dies, however it
// dies. A process joins by taking the descriptors from one that holds them,
// with pidfd_getfd(2), and checks what it got is a dispatcher: a raw
// tracepoint link whose program is profgen_dispatch, with maps of the
// expected kinds and sizes that the program uses. The processes that hold
// one and the slots they use are listed in a registry file
// (dispatchRegistry), read and written only under flock(2); a slot whose
// process is gone is emptied by the next process that joins or leaves.
//
// A recording does not share, and attaches its own program as before, when
// its cgroup contains or is contained in another slot's (the dispatcher
// calls only the first slot that matches), when all slots are taken, when
// the registry cannot be used, or when EBPFOptions.Exclusive (or
// PROFGEN_EBPF_EXCLUSIVE=1) asks for it.

// dispatchSlots is the number of slots of bpf/dispatch.c.
const dispatchSlots = 16

// dispatchRegistry is the registry of the processes that hold a dispatcher
// and of their slots; the version in the name changes with the programs'
// interface (dispatchRoutes, the maps).
var dispatchRegistry = "/run/profgen/dispatch-v2.json"

// dispatchEnv, set to 1, makes every recording of the process attach its
// own program.
const dispatchEnv = "PROFGEN_EBPF_EXCLUSIVE"

// dispatchProc is a process that holds a dispatcher: its link's id and the
// numbers of its descriptors of the link and the maps.
type dispatchProc struct {
	Pid     int    `json:"pid"`
	Start   uint64 `json:"start"`
	PidNS   uint64 `json:"pidns"`
	LinkID  uint32 `json:"link_id"`
	Link    int    `json:"link_fd"`
	Routes  int    `json:"routes_fd"`
	Progs   int    `json:"progs_fd"`
	Cgroups int    `json:"cgroups_fd"`
	Scratch int    `json:"scratch_fd"`
}

// dispatchSlotRec is a slot in use: its dispatcher (by link id), its
// process and its recording's cgroup.
type dispatchSlotRec struct {
	LinkID uint32 `json:"link_id"`
	Slot   int    `json:"slot"`
	Pid    int    `json:"pid"`
	Start  uint64 `json:"start"`
	PidNS  uint64 `json:"pidns"`
	Cgroup string `json:"cgroup"`
}

// dispatchReg is the registry file's content.
type dispatchReg struct {
	Procs []dispatchProc    `json:"procs"`
	Slots []dispatchSlotRec `json:"slots"`
}

// dispatcher is this process's descriptors of the machine's dispatcher.
type dispatcher struct {
	link                   link.Link
	linkID                 uint32
	routes, progs, cgroups *ebpf.Map
	// scratch is dsp_scratch, which the slots' recorders are loaded on.
	scratch *ebpf.Map
	slots   int // slots this process holds
}

var (
	// dispatchMu serialises this process's joins and leaves (flock
	// serialises processes, not the goroutines of one).
	dispatchMu sync.Mutex
	// dispatchCur is this process's dispatcher while it holds a slot.
	dispatchCur *dispatcher
)

// dispatchSlot is a recording's slot in the dispatcher.
type dispatchSlot struct {
	d    *dispatcher
	slot int
}

var (
	errDispatchOverlap = errors.New("its cgroup overlaps another shared recording's")
	errDispatchFull    = errors.New("all slots are taken")
)

// dispatchJoin is a recording joining the dispatcher: the registry stays
// locked, and the slot chosen, from beginDispatch to end.
type dispatchJoin struct {
	d    *dispatcher
	f    *os.File
	reg  *dispatchReg
	self cgroupOwner
	slot int
	path string
}

// beginDispatch takes this process's dispatcher, one another process
// holds, or a new one attached now, and chooses a free slot for the
// cgroup cg. The recorder program is then loaded on d.scratch (its
// `dispatched` form) and put in the slot by commit; end releases the lock
// (and the dispatcher, when the process holds no slot of it).
func beginDispatch(cg *Cgroup) (_ *dispatchJoin, err error) {
	dispatchMu.Lock()
	defer func() {
		if err != nil {
			dispatchMu.Unlock()
		}
	}()
	self, err := selfOwner()
	if err != nil {
		return nil, err
	}
	f, reg, err := lockDispatchRegistry()
	if err != nil {
		return nil, err
	}
	j := &dispatchJoin{f: f, reg: reg, self: self, slot: -1, path: filepath.Clean(cg.Path)}
	defer func() {
		if err != nil {
			j.release()
		}
	}()
	j.d = dispatchCur
	if j.d == nil {
		for _, p := range reg.Procs {
			if p.PidNS != self.PidNS || p.Pid == self.Pid || !sameProcess(p.Pid, p.Start) {
				continue
			}
			if j.d, err = adoptDispatcher(p); err == nil {
				break
			}
		}
	}
	if j.d == nil {
		if j.d, err = newDispatcher(); err != nil {
			return nil, err
		}
	}
	d := j.d
	reg.prune(d, self)
	used := map[int]bool{}
	for _, s := range reg.Slots {
		if s.LinkID != d.linkID {
			continue
		}
		used[s.Slot] = true
		if cgroupWithin(j.path, s.Cgroup) || cgroupWithin(s.Cgroup, j.path) {
			return nil, fmt.Errorf("%w (%s)", errDispatchOverlap, s.Cgroup)
		}
	}
	var routes dispatchRoutes
	if err := d.routes.Lookup(uint32(0), &routes); err != nil {
		return nil, fmt.Errorf("read dispatcher routes: %w", err)
	}
	for i := range dispatchSlots {
		// A slot in the kernel but not in the registry (a registry
		// lost or rewritten) is left alone.
		if !used[i] && routes.S[i].Cgid == 0 {
			j.slot = i
			break
		}
	}
	if j.slot < 0 {
		return nil, errDispatchFull
	}
	return j, nil
}

// commit puts prog, the recorder loaded on j.d.scratch that selects cg at
// level (> 0) itself, in the chosen slot. When it returns without an
// error, prog sees every syscall of cg's tasks. A registry that cannot be
// written leaves the slot in use, unknown to other processes (which see it
// taken in the kernel's routes).
func (j *dispatchJoin) commit(prog *ebpf.Program, cg *Cgroup, level uint32) (*dispatchSlot, error) {
	d, self := j.d, j.self
	if err := d.fill(j.slot, prog, cg, level); err != nil {
		d.empty(j.slot)
		return nil, err
	}
	j.reg.Slots = append(j.reg.Slots, dispatchSlotRec{LinkID: d.linkID, Slot: j.slot, Pid: self.Pid, Start: self.Start, PidNS: self.PidNS, Cgroup: j.path})
	if !slices.ContainsFunc(j.reg.Procs, func(p dispatchProc) bool { return p.Pid == self.Pid && p.PidNS == self.PidNS }) {
		j.reg.Procs = append(j.reg.Procs, dispatchProc{Pid: self.Pid, Start: self.Start, PidNS: self.PidNS, LinkID: d.linkID,
			Link: d.link.(interface{ FD() int }).FD(), Routes: d.routes.FD(), Progs: d.progs.FD(), Cgroups: d.cgroups.FD(), Scratch: d.scratch.FD()})
	}
	writeDispatchRegistry(j.f, j.reg)
	d.slots++
	dispatchCur = d
	return &dispatchSlot{d: d, slot: j.slot}, nil
}

// end releases the registry's lock; a dispatcher the process holds no
// slot of is closed.
func (j *dispatchJoin) end() {
	if j != nil {
		j.release()
		dispatchMu.Unlock()
	}
}

func (j *dispatchJoin) release() {
	if j.d != nil && j.d.slots == 0 {
		j.d.close()
		if dispatchCur == j.d {
			dispatchCur = nil
		}
	}
	j.f.Close()
}

// leave empties the slot; the last slot of the process closes its
// descriptors of the dispatcher, which detaches it when no other process
// holds it.
func (s *dispatchSlot) leave() {
	dispatchMu.Lock()
	defer dispatchMu.Unlock()
	d := s.d
	self, err := selfOwner()
	// The routes are rewritten whole: only under the registry's lock, or
	// another process's slot written meanwhile would be lost. Without the
	// lock (a registry gone) the slot is emptied all the same.
	f, reg, rerr := lockDispatchRegistry()
	d.empty(s.slot)
	d.slots--
	if err == nil && rerr == nil {
		reg.Slots = slices.DeleteFunc(reg.Slots, func(r dispatchSlotRec) bool {
			return r.LinkID == d.linkID && r.Slot == s.slot && r.Pid == self.Pid && r.PidNS == self.PidNS
		})
		reg.prune(d, self)
		if d.slots == 0 {
			reg.Procs = slices.DeleteFunc(reg.Procs, func(p dispatchProc) bool { return p.Pid == self.Pid && p.PidNS == self.PidNS })
		}
		writeDispatchRegistry(f, reg)
	}
	if f != nil {
		f.Close()
	}
	if d.slots == 0 {
		d.close()
		dispatchCur = nil
	}
}

// fill routes the slot to prog: the program and the cgroup first, the
// route last, so the dispatcher never calls an empty slot for cg.
func (d *dispatcher) fill(slot int, prog *ebpf.Program, cg *Cgroup, level uint32) error {
	if err := d.progs.Put(uint32(slot), prog); err != nil {
		return fmt.Errorf("put recorder in dispatcher slot %d: %w", slot, err)
	}
	fd, err := unix.Open(cg.Path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open cgroup %s: %w", cg.Path, err)
	}
	err = d.cgroups.Put(uint32(slot), uint32(fd))
	unix.Close(fd)
	if err != nil {
		return fmt.Errorf("put cgroup in dispatcher slot %d: %w", slot, err)
	}
	return d.route(slot, level, cg.ID)
}

// empty clears the slot: the route first, so the dispatcher stops choosing
// it before its program goes.
func (d *dispatcher) empty(slot int) {
	d.route(slot, 0, 0)
	d.progs.Delete(uint32(slot))
	d.cgroups.Delete(uint32(slot))
}

// route sets slot's cgroup (cgid 0: none) and the number of slots the
// dispatcher looks at. The whole value is rewritten (so callers hold the
// registry's lock, which orders the writers); the other slots get
// the bytes they had.
func (d *dispatcher) route(slot int, level uint32, cgid uint64) error {
	var r dispatchRoutes
	if err := d.routes.Lookup(uint32(0), &r); err != nil {
		return fmt.Errorf("read dispatcher routes: %w", err)
	}
	r.S[slot].Level, r.S[slot].Cgid = level, cgid
	r.N = 0
	for i := range r.S {
		if r.S[i].Cgid != 0 {
			r.N = uint32(i + 1)
		}
	}
	if err := d.routes.Update(uint32(0), &r, ebpf.UpdateExist); err != nil {
		return fmt.Errorf("write dispatcher routes: %w", err)
	}
	return nil
}

// close closes this process's descriptors, those it has.
func (d *dispatcher) close() {
	if d.link != nil {
		d.link.Close()
	}
	for _, m := range []*ebpf.Map{d.routes, d.progs, d.cgroups, d.scratch} {
		if m != nil {
			m.Close()
		}
	}
}

// prune drops the registry's processes that are gone and empties, in d,
// the slots of processes that are gone; slots of dispatchers no process
// holds any more are forgotten. Processes of other pid namespaces are kept:
// their pids mean nothing here.
func (reg *dispatchReg) prune(d *dispatcher, self cgroupOwner) {
	gone := func(pid int, start, ns uint64) bool {
		if ns != self.PidNS {
			return false
		}
		if pid == self.Pid {
			return start != self.Start
		}
		return !sameProcess(pid, start)
	}
	reg.Procs = slices.DeleteFunc(reg.Procs, func(p dispatchProc) bool { return gone(p.Pid, p.Start, p.PidNS) })
	held := map[uint32]bool{d.linkID: true}
	for _, p := range reg.Procs {
		held[p.LinkID] = true
	}
	reg.Slots = slices.DeleteFunc(reg.Slots, func(s dispatchSlotRec) bool {
		if !held[s.LinkID] {
			return true
		}
		if !gone(s.Pid, s.Start, s.PidNS) {
			return false
		}
		if s.LinkID == d.linkID {
			d.empty(s.Slot)
		}
		return true
	})
}

// cgroupWithin reports whether cgroup directory a is b or below it.
func cgroupWithin(a, b string) bool {
	return a == b || strings.HasPrefix(a, b+"/")
}

// lockDispatchRegistry opens the registry, takes its lock (released by
// closing the file) and reads it; unreadable content reads as empty.
func lockDispatchRegistry() (*os.File, *dispatchReg, error) {
	if err := os.MkdirAll(filepath.Dir(dispatchRegistry), 0o700); err != nil {
		return nil, nil, fmt.Errorf("dispatcher registry: %w", err)
	}
	f, err := os.OpenFile(dispatchRegistry, os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("dispatcher registry: %w", err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || int(st.Uid) != os.Geteuid() {
		f.Close()
		return nil, nil, fmt.Errorf("dispatcher registry %s: not a regular file of this user", dispatchRegistry)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("lock dispatcher registry %s: %w", dispatchRegistry, err)
	}
	data, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		data = nil
	}
	return f, parseDispatchRegistry(data), nil
}

// parseDispatchRegistry parses the registry's content. Anything it cannot
// use (a file cut short by a crash, another program's) reads as an empty
// registry: the dispatcher's slots are then found free or taken in the
// kernel's routes, and a process holding a dispatcher no one can find any
// more keeps it to itself.
func parseDispatchRegistry(data []byte) *dispatchReg {
	reg := &dispatchReg{}
	if len(data) == 0 || json.Unmarshal(data, reg) != nil {
		return &dispatchReg{}
	}
	reg.Slots = slices.DeleteFunc(reg.Slots, func(s dispatchSlotRec) bool {
		return s.Slot < 0 || s.Slot >= dispatchSlots || !filepath.IsAbs(s.Cgroup)
	})
	reg.Procs = slices.DeleteFunc(reg.Procs, func(p dispatchProc) bool { return p.Pid <= 0 })
	return reg
}

// writeDispatchRegistry rewrites the locked registry f.
func writeDispatchRegistry(f *os.File, reg *dispatchReg) error {
	data, err := json.Marshal(reg)
	if err != nil {
		return err
	}
	if err := f.Truncate(0); err != nil {
		return fmt.Errorf("write dispatcher registry: %w", err)
	}
	if _, err := f.WriteAt(append(data, '\n'), 0); err != nil {
		return fmt.Errorf("write dispatcher registry: %w", err)
	}
	return nil
}

// newDispatcher loads the dispatcher and attaches it to sys_enter, with no
// slot in use.
func newDispatcher() (*dispatcher, error) {
	spec, err := loadDispatch()
	if err != nil {
		return nil, fmt.Errorf("load eBPF dispatcher: %w", err)
	}
	var objs dispatchObjects
	if err := spec.LoadAndAssign(&objs, nil); err != nil {
		return nil, bpfLoadError(err)
	}
	defer objs.ProfgenDispatch.Close() // the link holds it
	l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: "sys_enter", Program: objs.ProfgenDispatch})
	if err != nil {
		objs.dispatchMaps.Close()
		return nil, fmt.Errorf("attach eBPF dispatcher: %w", err)
	}
	info, err := l.Info()
	if err != nil {
		l.Close()
		objs.dispatchMaps.Close()
		return nil, fmt.Errorf("eBPF dispatcher link: %w", err)
	}
	return &dispatcher{link: l, linkID: uint32(info.ID), routes: objs.DspRoutes, progs: objs.DspProgs, cgroups: objs.DspCgroups, scratch: objs.DspScratch}, nil
}

// adoptDispatcher takes p's descriptors of its dispatcher and checks them.
func adoptDispatcher(p dispatchProc) (*dispatcher, error) {
	pidfd, err := unix.PidfdOpen(p.Pid, 0)
	if err != nil {
		return nil, fmt.Errorf("pidfd_open %d: %w", p.Pid, err)
	}
	defer unix.Close(pidfd)
	if !sameProcess(p.Pid, p.Start) { // the pidfd pins the process from here on
		return nil, fmt.Errorf("process %d is gone", p.Pid)
	}
	spec, err := loadDispatch()
	if err != nil {
		return nil, err
	}
	d := &dispatcher{}
	ok := false
	defer func() {
		if !ok {
			d.close()
		}
	}()
	lfd, err := unix.PidfdGetfd(pidfd, p.Link, 0)
	if err != nil {
		return nil, fmt.Errorf("pidfd_getfd %d:%d: %w", p.Pid, p.Link, err)
	}
	if d.link, err = link.NewFromFD(lfd); err != nil {
		unix.Close(lfd)
		return nil, err
	}
	info, err := d.link.Info()
	if err != nil {
		return nil, err
	}
	if info.Type != link.RawTracepointType || uint32(info.ID) != p.LinkID {
		return nil, fmt.Errorf("process %d's descriptor %d is not its dispatcher's link", p.Pid, p.Link)
	}
	d.linkID = p.LinkID
	prog, err := ebpf.NewProgramFromID(info.Program)
	if err != nil {
		return nil, err
	}
	pinfo, err := prog.Info()
	prog.Close()
	if err != nil {
		return nil, err
	}
	mapIDs, _ := pinfo.MapIDs()
	if !isDispatcherName(pinfo.Name) {
		return nil, fmt.Errorf("process %d's link runs %q, not the dispatcher", p.Pid, pinfo.Name)
	}
	for _, m := range []struct {
		fd   int
		name string
		dst  **ebpf.Map
	}{{p.Routes, dispatchMapDspRoutes, &d.routes}, {p.Progs, dispatchMapDspProgs, &d.progs}, {p.Cgroups, dispatchMapDspCgroups, &d.cgroups},
		{p.Scratch, dispatchMapDspScratch, &d.scratch}} {
		fd, err := unix.PidfdGetfd(pidfd, m.fd, 0)
		if err != nil {
			return nil, fmt.Errorf("pidfd_getfd %d:%d: %w", p.Pid, m.fd, err)
		}
		mp, err := ebpf.NewMapFromFD(fd)
		if err != nil {
			unix.Close(fd)
			return nil, err
		}
		*m.dst = mp
		mi, err := mp.Info()
		if err != nil {
			return nil, err
		}
		id, _ := mi.ID()
		ms := spec.Maps[m.name]
		if !slices.Contains(mapIDs, id) || mi.Type != ms.Type || mi.KeySize != ms.KeySize || mi.ValueSize != ms.ValueSize || mi.MaxEntries != ms.MaxEntries {
			return nil, fmt.Errorf("process %d's descriptor %d is not its dispatcher's %s", p.Pid, m.fd, m.name)
		}
	}
	ok = true
	return d, nil
}

// isDispatcherName reports whether name, from a program's info, is the
// dispatcher's: the kernel keeps 15 bytes of a name, cilium/ebpf reads the
// whole from the program's BTF when it has it.
func isDispatcherName(name string) bool {
	full := dispatchProgProfgenDispatch
	return name == full || name == full[:min(len(full), unix.BPF_OBJ_NAME_LEN-1)]
}
