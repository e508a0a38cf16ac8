package dispatch

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
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/cgroup"
	"github.com/profgen/profgen/internal/errs"
	"github.com/profgen/profgen/internal/proc"
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
// (RegistryPath), replaced whole (rename) and only under flock(2) of
// the lock file beside it; a slot whose process is gone is emptied by the
// next process that joins or leaves. A dispatcher with a slot in use that
// the registry does not list (the registry lost) is not shared further.
//
// A recording alone on the machine does not share either: the
// dispatcher's lookup and tail call cost each call it records about 5 ns
// (docs/performance.md), for nothing when nobody shares. Begin then
// answers Solo, and the recording attaches its own program and lists
// itself in the registry (Solos) until it ends, so that the next
// recording, seeing it, takes the dispatcher: the machine runs at most two
// sys_enter programs for any number of recordings, the first's own and
// the dispatcher.
//
// A recording does not share, and attaches its own program as before, when
// its cgroup contains or is contained in another slot's (the dispatcher
// calls only the first slot that matches), when all slots are taken, when
// the registry cannot be used, or when EBPFOptions.Exclusive (or
// PROFGEN_EBPF_EXCLUSIVE=1) asks for it. EBPFOptions.Share (or
// PROFGEN_EBPF_SHARE=1) takes a slot even alone.

// Slots is the number of slots of bpf/dispatch.c.
const Slots = 16

// RegistryPath is the registry of the processes that hold a dispatcher
// and of their slots; the version in the name changes with the programs'
// interface (dispatchRoutes, the maps).
var RegistryPath = "/run/profgen/dispatch-v3.json"

// Env, set to 1, makes every recording of the process attach its
// own program.
const Env = "PROFGEN_EBPF_EXCLUSIVE"

// ShareEnv, set to 1, makes every recording of the process take a slot in
// the dispatcher even when it is alone on the machine.
const ShareEnv = "PROFGEN_EBPF_SHARE"

// Proc is a process that holds a dispatcher: its link's id and the
// numbers of its descriptors of the link and the maps.
type Proc struct {
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

// SlotRec is a slot in use: its dispatcher (by link id), its
// process and its recording's cgroup.
type SlotRec struct {
	LinkID uint32 `json:"link_id"`
	Slot   int    `json:"slot"`
	Pid    int    `json:"pid"`
	Start  uint64 `json:"start"`
	PidNS  uint64 `json:"pidns"`
	Cgroup string `json:"cgroup"`
	// Cgid is the slot's cgroup id (its route), Chain the ids of that
	// cgroup and its ancestors up to the hierarchy's root: overlaps are
	// judged by ids, whatever path the cgroup was reached by.
	Cgid  uint64   `json:"cgid"`
	Chain []uint64 `json:"chain"`
}

// SoloRec is a recording that attached its own program because it was
// alone (Begin's Solo): its process and cgroup.
type SoloRec struct {
	Pid    int    `json:"pid"`
	Start  uint64 `json:"start"`
	PidNS  uint64 `json:"pidns"`
	Cgroup string `json:"cgroup"`
}

// Reg is the registry file's content.
type Reg struct {
	Procs []Proc    `json:"procs"`
	Slots []SlotRec `json:"slots"`
	// Solos are the recordings running a program of their own because
	// they were alone when they began.
	Solos []SoloRec `json:"solos,omitempty"`
}

// dispatchLockWait is how long a recording waits for another process's
// hold of the registry's lock (a stopped or frozen profgen keeps it)
// before it gives up: a join then attaches a program of its own.
const dispatchLockWait = 2 * time.Second

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

// Routes is the dispatcher's routes map's one value (bpf/dispatch.c).
type Routes = dispatchRoutes

// Scratch is the dispatcher's dsp_scratch, which the recorder to put in
// the slot is loaded on.
func (j *Join) Scratch() *ebpf.Map { return j.d.scratch }

// Index is the slot's number in its dispatcher.
func (s *Slot) Index() int { return s.slot }

// LinkID is the id of the link of the slot's dispatcher.
func (s *Slot) LinkID() uint32 { return s.d.linkID }

// Routes reads the routes of the slot's dispatcher.
func (s *Slot) Routes() (Routes, error) {
	var r Routes
	err := s.d.routes.Lookup(uint32(0), &r)
	return r, err
}

// Slot is a recording's slot in the dispatcher.
type Slot struct {
	d    *dispatcher
	slot int
	cgid uint64
}

var (
	ErrOverlap  = errors.New("its cgroup overlaps another shared recording's")
	ErrFull     = errors.New("all slots are taken")
	ErrUnlisted = errors.New("the dispatcher has a slot in use that its registry does not list")
)

// Join is a recording joining the dispatcher: the registry stays
// locked, and the slot chosen, from Begin to end. A solo Join (Solo) has
// no dispatcher: the recording attaches its own program and lists itself
// by CommitSolo.
type Join struct {
	solo  bool
	d     *dispatcher
	f     *os.File
	reg   *Reg
	self  proc.ID
	slot  int
	path  string
	chain []uint64
}

// Begin takes this process's dispatcher, one another process
// holds, or a new one attached now, and chooses a free slot for the
// cgroup cg. The recorder program is then loaded on d.scratch (its
// `dispatched` form) and put in the slot by commit; end releases the lock
// (and the dispatcher, when the process holds no slot of it). Unless
// share, a recording that finds no other on the machine (no slot, no solo
// recording of a live process) gets a solo Join instead.
func Begin(cg *cgroup.Cgroup, share bool) (_ *Join, err error) {
	dispatchMu.Lock()
	defer func() {
		if err != nil {
			dispatchMu.Unlock()
		}
	}()
	self, err := proc.Self()
	if err != nil {
		return nil, err
	}
	f, reg, err := lockDispatchRegistry()
	if err != nil {
		return nil, err
	}
	chain, err := cgroupChain(cg.Path)
	if err != nil {
		f.Close()
		return nil, err
	}
	j := &Join{f: f, reg: reg, self: self, slot: -1, path: filepath.Clean(cg.Path), chain: chain}
	defer func() {
		if err != nil {
			j.release()
		}
	}()
	if !share && dispatchCur == nil && reg.alone(self) {
		j.solo = true
		return j, nil
	}
	j.d = dispatchCur
	if j.d == nil {
		for _, p := range reg.Procs {
			if p.PidNS != self.PidNS || p.Pid == self.Pid || !proc.SameProcess(p.Pid, p.Start) {
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
	var routes dispatchRoutes
	if err := d.routes.Lookup(uint32(0), &routes); err != nil {
		return nil, fmt.Errorf("read dispatcher routes: %w", err)
	}
	reg.prune(d, &routes, self)
	used := map[int]bool{}
	for _, s := range reg.Slots {
		if s.LinkID != d.linkID {
			continue
		}
		used[s.Slot] = true
		if slices.Contains(chain, s.Cgid) || slices.Contains(s.Chain, cg.ID) {
			return nil, fmt.Errorf("%w (%s)", ErrOverlap, s.Cgroup)
		}
	}
	for i := range Slots {
		// A slot routed in the kernel but not in the registry (a
		// registry lost, or a process killed between the two) might
		// overlap: then this dispatcher is not shared any more.
		if routes.S[i].Cgid != 0 && !used[i] {
			return nil, ErrUnlisted
		}
		if !used[i] && j.slot < 0 {
			j.slot = i
		}
	}
	if j.slot < 0 {
		return nil, ErrFull
	}
	return j, nil
}

// Commit puts prog, the recorder loaded on j.d.scratch that selects cg at
// level (> 0) itself, in the chosen slot. When it returns without an
// error, prog sees every syscall of cg's tasks. A registry that cannot be
// written leaves the slot in use, unknown to other processes (which see it
// taken in the kernel's routes).
func (j *Join) Commit(prog *ebpf.Program, cg *cgroup.Cgroup, level uint32) (*Slot, error) {
	d, self := j.d, j.self
	// The registry first: a process killed before its route is written
	// leaves a record of a slot that is empty, which the next join
	// prunes; the other way round it would leave a slot in use that no
	// record lists.
	j.reg.Slots = append(j.reg.Slots, SlotRec{LinkID: d.linkID, Slot: j.slot, Pid: self.Pid, Start: self.Start, PidNS: self.PidNS,
		Cgroup: j.path, Cgid: cg.ID, Chain: j.chain})
	j.reg.Procs = slices.DeleteFunc(j.reg.Procs, func(p Proc) bool { return p.Pid == self.Pid && p.PidNS == self.PidNS })
	j.reg.Procs = append(j.reg.Procs, Proc{Pid: self.Pid, Start: self.Start, PidNS: self.PidNS, LinkID: d.linkID,
		Link: d.link.(interface{ FD() int }).FD(), Routes: d.routes.FD(), Progs: d.progs.FD(), Cgroups: d.cgroups.FD(), Scratch: d.scratch.FD()})
	if err := writeDispatchRegistry(j.reg); err != nil {
		return nil, err
	}
	if err := d.fill(j.slot, prog, cg, level); err != nil {
		d.empty(j.slot)
		return nil, err
	}
	d.slots++
	dispatchCur = d
	return &Slot{d: d, slot: j.slot, cgid: cg.ID}, nil
}

// Solo says that the recording is alone: it attaches a program of its
// own, then calls CommitSolo.
func (j *Join) Solo() bool { return j.solo }

// Solo is a recording listed as running a program of its own.
type Solo struct{ rec SoloRec }

// CommitSolo lists the solo recording of cg in the registry, so that the
// next recording shares the dispatcher rather than attach a second program
// of its own; Leave unlists it.
func (j *Join) CommitSolo(cg *cgroup.Cgroup) (*Solo, error) {
	rec := SoloRec{Pid: j.self.Pid, Start: j.self.Start, PidNS: j.self.PidNS, Cgroup: j.path}
	j.reg.Solos = append(j.reg.Solos, rec)
	if err := writeDispatchRegistry(j.reg); err != nil {
		return nil, err
	}
	return &Solo{rec: rec}, nil
}

// Leave unlists the solo recording (the first record of its process and
// cgroup) and drops the solo records of processes that are gone. A
// registry that cannot be locked keeps the record, which the next Begin
// drops once the process is gone.
func (s *Solo) Leave() {
	dispatchMu.Lock()
	defer dispatchMu.Unlock()
	f, reg, err := lockDispatchRegistry()
	if err != nil {
		return
	}
	defer f.Close()
	if i := slices.Index(reg.Solos, s.rec); i >= 0 {
		reg.Solos = slices.Delete(reg.Solos, i, i+1)
	}
	if self, err := proc.Self(); err == nil {
		reg.Solos = slices.DeleteFunc(reg.Solos, func(r SoloRec) bool { return goneHere(r.Pid, r.Start, r.PidNS, self) })
	}
	writeDispatchRegistry(reg)
}

// alone drops the solo records of processes that are gone and says
// whether the registry lists no recording of a live process: no slot and
// no solo. A record of another pid namespace, whose pid means nothing
// here, counts as live.
func (reg *Reg) alone(self proc.ID) bool {
	reg.Solos = slices.DeleteFunc(reg.Solos, func(r SoloRec) bool { return goneHere(r.Pid, r.Start, r.PidNS, self) })
	if len(reg.Solos) > 0 {
		return false
	}
	for _, sl := range reg.Slots {
		if !goneHere(sl.Pid, sl.Start, sl.PidNS, self) {
			return false
		}
	}
	return true
}

// goneHere says whether the process pid, started at start in the pid
// namespace ns, is known to be gone: in self's namespace, no such
// process runs (a process that cannot be read, EMFILE say, is not gone);
// in another, never known.
func goneHere(pid int, start, ns uint64, self proc.ID) bool {
	switch {
	case ns != self.PidNS:
		return false
	case pid == self.Pid:
		return start != self.Start
	}
	p, err := proc.ReadStat(pid)
	if errors.Is(err, proc.ErrNoProcess) {
		return true
	}
	return err == nil && (p.Start != start || !p.Alive())
}

// End releases the registry's lock; a dispatcher the process holds no
// slot of is closed.
func (j *Join) End() {
	if j != nil {
		j.release()
		dispatchMu.Unlock()
	}
}

func (j *Join) release() {
	if j.d != nil && j.d.slots == 0 {
		j.d.close()
		if dispatchCur == j.d {
			dispatchCur = nil
		}
	}
	j.f.Close()
}

// Leave empties the slot; the last slot of the process closes its
// descriptors of the dispatcher, which detaches it when no other process
// holds it.
func (s *Slot) Leave() {
	dispatchMu.Lock()
	defer dispatchMu.Unlock()
	d := s.d
	self, err := proc.Self()
	// The routes are rewritten whole: only under the registry's lock, or
	// another process's slot written meanwhile would be lost. Without
	// the lock only the slot's program goes (an element of its own); its
	// route stays for the next join to prune, and calls it matches find
	// no program.
	f, reg, rerr := lockDispatchRegistry()
	if rerr != nil {
		d.progs.Delete(uint32(s.slot))
	} else {
		d.empty(s.slot)
	}
	d.slots--
	if err == nil && rerr == nil {
		reg.Slots = slices.DeleteFunc(reg.Slots, func(r SlotRec) bool {
			return r.LinkID == d.linkID && r.Slot == s.slot && r.Pid == self.Pid && r.PidNS == self.PidNS
		})
		var routes dispatchRoutes
		if d.routes.Lookup(uint32(0), &routes) == nil {
			reg.prune(d, &routes, self)
		}
		if d.slots == 0 {
			reg.Procs = slices.DeleteFunc(reg.Procs, func(p Proc) bool { return p.Pid == self.Pid && p.PidNS == self.PidNS })
		}
		writeDispatchRegistry(reg)
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
func (d *dispatcher) fill(slot int, prog *ebpf.Program, cg *cgroup.Cgroup, level uint32) error {
	if err := d.progs.Put(uint32(slot), prog); err != nil {
		return fmt.Errorf("put recorder in dispatcher slot %d: %w", slot, err)
	}
	fd, err := unix.Open(cg.Path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open cgroup %s: %w", cg.Path, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Ino != cg.ID {
		unix.Close(fd)
		return fmt.Errorf("open cgroup %s: not the cgroup %d any more", cg.Path, cg.ID)
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

// route sets slot's cgroup (cgid 0: none), the number of slots the
// dispatcher looks at and the level they share. The whole value is
// rewritten (so callers hold the registry's lock, which orders the
// writers); the other slots get the bytes they had.
func (d *dispatcher) route(slot int, level uint32, cgid uint64) error {
	var r dispatchRoutes
	if err := d.routes.Lookup(uint32(0), &r); err != nil {
		return fmt.Errorf("read dispatcher routes: %w", err)
	}
	prev := r
	r.S[slot].Level, r.S[slot].Cgid = level, cgid
	r.span()
	if prev.Level != 0 && r.Level != prev.Level {
		// The dispatcher compares every slot with the task's ancestor at
		// prev.Level only: before a slot of another level is routed, it
		// must look at each slot's own level (0).
		prev.Level = 0
		if err := d.routes.Update(uint32(0), &prev, ebpf.UpdateExist); err != nil {
			return fmt.Errorf("write dispatcher routes: %w", err)
		}
	}
	if err := d.routes.Update(uint32(0), &r, ebpf.UpdateExist); err != nil {
		return fmt.Errorf("write dispatcher routes: %w", err)
	}
	return nil
}

// span sets r.N, one more than the highest slot in use, and r.Level, the
// level every slot in use has (0 when they differ or none is in use).
func (r *dispatchRoutes) span() {
	r.N, r.Level = 0, 0
	mixed := false
	for i := range r.S {
		if r.S[i].Cgid == 0 {
			continue
		}
		r.N = uint32(i + 1)
		if r.Level == 0 {
			r.Level = r.S[i].Level
		} else if r.S[i].Level != r.Level {
			mixed = true
		}
	}
	if mixed {
		r.Level = 0
	}
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
// the slots of processes that are gone (when the slot's route is still
// theirs); slots of dispatchers no process holds any more are forgotten.
// Records of other pid namespaces, whose pids mean nothing here, are
// dropped only once their dispatcher's link is gone. A process that cannot
// be read (EMFILE, say) is not gone.
func (reg *Reg) prune(d *dispatcher, routes *dispatchRoutes, self proc.ID) {
	links := map[uint32]bool{}
	linkGone := func(id uint32) bool {
		if v, ok := links[id]; ok {
			return v
		}
		l, err := link.NewFromID(link.ID(id))
		if err == nil {
			l.Close()
		}
		links[id] = errors.Is(err, os.ErrNotExist)
		return links[id]
	}
	gone := func(pid int, start, ns uint64, linkID uint32) bool {
		if ns != self.PidNS {
			return linkGone(linkID)
		}
		return goneHere(pid, start, ns, self)
	}
	reg.Procs = slices.DeleteFunc(reg.Procs, func(p Proc) bool { return gone(p.Pid, p.Start, p.PidNS, p.LinkID) })
	held := map[uint32]bool{d.linkID: true}
	for _, p := range reg.Procs {
		held[p.LinkID] = true
	}
	reg.Slots = slices.DeleteFunc(reg.Slots, func(s SlotRec) bool {
		if !held[s.LinkID] {
			return true
		}
		if !gone(s.Pid, s.Start, s.PidNS, s.LinkID) {
			return false
		}
		if s.LinkID == d.linkID && routes.S[s.Slot].Cgid == s.Cgid {
			d.empty(s.Slot)
			routes.S[s.Slot].Cgid = 0
		}
		return true
	})
}

// cgroupChain returns the ids (inode numbers) of the cgroup v2 directory
// path and of its ancestors up to the root of its cgroup2 mount.
func cgroupChain(path string) ([]uint64, error) {
	var chain []uint64
	for p := filepath.Clean(path); ; p = filepath.Dir(p) {
		var sfs unix.Statfs_t
		if err := unix.Statfs(p, &sfs); err != nil || sfs.Type != unix.CGROUP2_SUPER_MAGIC {
			break
		}
		var st unix.Stat_t
		if err := unix.Stat(p, &st); err != nil {
			return nil, fmt.Errorf("cgroup %s: %w", p, err)
		}
		chain = append(chain, st.Ino)
		if p == "/" {
			break
		}
	}
	if len(chain) == 0 {
		return nil, fmt.Errorf("cgroup %s: %w: not a cgroup v2 directory", path, errs.ErrNotSupported)
	}
	return chain, nil
}

// lockDispatchRegistry takes the registry's lock, flock(2) on the lock
// file beside it, waiting at most dispatchLockWait, and reads the
// registry; unusable content reads as empty. Closing the file releases
// the lock.
func lockDispatchRegistry() (*os.File, *Reg, error) {
	if err := os.MkdirAll(filepath.Dir(RegistryPath), 0o700); err != nil {
		return nil, nil, fmt.Errorf("dispatcher registry: %w", err)
	}
	lock := strings.TrimSuffix(RegistryPath, ".json") + ".lock"
	deadline := time.Now().Add(dispatchLockWait)
	for {
		f, err := os.OpenFile(lock, os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return nil, nil, fmt.Errorf("dispatcher registry: %w", err)
		}
		var st unix.Stat_t
		if err := unix.Fstat(int(f.Fd()), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || int(st.Uid) != os.Geteuid() {
			f.Close()
			return nil, nil, fmt.Errorf("dispatcher registry lock %s: not a regular file of this user", lock)
		}
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			if time.Now().After(deadline) {
				return nil, nil, fmt.Errorf("dispatcher registry lock %s: held by another process for %s", lock, dispatchLockWait)
			}
			time.Sleep(5 * time.Millisecond)
			continue
		}
		if err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("lock dispatcher registry %s: %w", lock, err)
		}
		// The file locked must still be the one at the path.
		var now unix.Stat_t
		if err := unix.Stat(lock, &now); err != nil || now.Ino != st.Ino || now.Dev != st.Dev {
			f.Close()
			continue
		}
		return f, ReadRegistry(), nil
	}
}

// ReadRegistry reads the registry; a missing, oversized or
// unparsable file reads as empty.
func ReadRegistry() *Reg {
	f, err := os.Open(RegistryPath)
	if err != nil {
		return &Reg{}
	}
	defer f.Close()
	const limit = 1 << 20
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil || len(data) > limit {
		return &Reg{}
	}
	return parseDispatchRegistry(data)
}

// writeDispatchRegistry replaces the registry, under its lock: a
// temporary file renamed over it, so that a crash never leaves it cut
// short.
func writeDispatchRegistry(reg *Reg) error {
	data, err := json.Marshal(reg)
	if err != nil {
		return err
	}
	tmp := RegistryPath + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("write dispatcher registry: %w", err)
	}
	if err := os.Rename(tmp, RegistryPath); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write dispatcher registry: %w", err)
	}
	return nil
}

// parseDispatchRegistry parses the registry's content. Anything it cannot
// use (a file cut short by a crash, another program's) reads as an empty
// registry: the dispatcher's slots are then found free or taken in the
// kernel's routes, and a process holding a dispatcher no one can find any
// more keeps it to itself.
func parseDispatchRegistry(data []byte) *Reg {
	reg := &Reg{}
	if len(data) == 0 || json.Unmarshal(data, reg) != nil {
		return &Reg{}
	}
	reg.Slots = slices.DeleteFunc(reg.Slots, func(s SlotRec) bool {
		return s.Slot < 0 || s.Slot >= Slots || !filepath.IsAbs(s.Cgroup)
	})
	reg.Procs = slices.DeleteFunc(reg.Procs, func(p Proc) bool { return p.Pid <= 0 })
	return reg
}

// newDispatcher loads the dispatcher and attaches it to sys_enter, with no
// slot in use.
func newDispatcher() (*dispatcher, error) {
	spec, err := loadDispatch()
	if err != nil {
		return nil, fmt.Errorf("load eBPF dispatcher: %w", err)
	}
	current := CurrentTasks()
	if err := current.Configure(spec); err != nil {
		return nil, fmt.Errorf("load eBPF dispatcher: %w", err)
	}
	var objs dispatchObjects
	if err := spec.LoadAndAssign(&objs, nil); err != nil {
		return nil, LoadError(err)
	}
	defer objs.ProfgenDispatch.Close() // the link holds it
	defer objs.CurrentAt.Close()       // the program holds it
	if err := current.Fill(objs.CurrentAt); err != nil {
		objs.dispatchMaps.Close()
		return nil, fmt.Errorf("load eBPF dispatcher: %w", err)
	}
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
func adoptDispatcher(p Proc) (*dispatcher, error) {
	pidfd, err := unix.PidfdOpen(p.Pid, 0)
	if err != nil {
		return nil, fmt.Errorf("pidfd_open %d: %w", p.Pid, err)
	}
	defer unix.Close(pidfd)
	if !proc.SameProcess(p.Pid, p.Start) { // the pidfd pins the process from here on
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
	if !IsDispatcherName(pinfo.Name) {
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

// IsDispatcherName reports whether name, from a program's info, is the
// dispatcher's: the kernel keeps 15 bytes of a name, cilium/ebpf reads the
// whole from the program's BTF when it has it.
func IsDispatcherName(name string) bool {
	full := dispatchProgProfgenDispatch
	return name == full || name == full[:min(len(full), unix.BPF_OBJ_NAME_LEN-1)]
}
