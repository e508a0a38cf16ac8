package trace

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/internal/errs"
	"github.com/profgen/profgen/recording"
	"github.com/profgen/profgen/trace/dispatch"
)

// Kinds of a paths key (trace/bpf/paths.c, enum right): below
// pathKindPort a Landlock filesystem right (its index in
// recording.LandlockRights), then the other observations and the
// reasons a path was not resolved.
const (
	pathKindTCPBind        = 32
	pathKindTCPConnect     = 33
	pathKindAbstractUnix   = 34
	pathKindSignalsOutside = 35
	pathKindUnresLong      = 48
	pathKindUnresDeleted   = 49
	pathKindUnresPseudo    = 50
	pathKindUnresError     = 51
)

// unresolvedReasons says why a path was not resolved, by key kind.
var unresolvedReasons = map[uint8]string{
	pathKindUnresLong:    "path longer than 255 bytes",
	pathKindUnresDeleted: "file already removed (unlinked) when accessed",
	pathKindUnresPseudo:  "no path: a pseudo file (pipe, socket, anonymous inode, memfd)",
	pathKindUnresError:   "the kernel could not build the path",
}

// bpfLSMFeature names what the path recorder needs.
const bpfLSMFeature = "BPF LSM programs (the accesses Landlock governs are recorded from the LSM hooks Landlock uses)"

// paths records what Landlock governs (trace/bpf/paths.c): loaded on the
// recorder's maps that select the target, attached beside it.
type paths struct {
	objs  pathsObjects
	links []link.Link
}

// lsmAvailable reports whether the kernel runs the BPF LSM: it is listed
// in /sys/kernel/security/lsm (securityfs) when booted with it.
func lsmAvailable() error {
	b, err := os.ReadFile("/sys/kernel/security/lsm")
	if err != nil {
		// securityfs not mounted: attaching decides.
		return nil
	}
	for _, name := range strings.Split(strings.TrimSpace(string(b)), ",") {
		if name == "bpf" {
			return nil
		}
	}
	return &errs.Unsupported{Op: "record paths", Feature: bpfLSMFeature + ": the BPF LSM is not active (/sys/kernel/security/lsm: " + strings.TrimSpace(string(b)) + ")",
		Fix: "use a kernel built with CONFIG_BPF_LSM=y and boot it with bpf in lsm= (lsm=...,bpf)"}
}

// newPaths loads paths.c on e's maps, with e's final constants.
func newPaths(e *EBPF) (*paths, error) {
	if err := lsmAvailable(); err != nil {
		return nil, err
	}
	spec, err := loadPaths()
	if err != nil {
		return nil, fmt.Errorf("load eBPF path recorder: %w", err)
	}
	if err := dispatch.CurrentTasks().Configure(spec); err != nil {
		return nil, fmt.Errorf("load eBPF path recorder: %w", err)
	}
	for name, v := range map[string]any{
		pathsVarMode: e.mode, pathsVarTargetLevel: e.level, pathsVarTargetCgid: e.cgid, pathsVarArmOnExec: boolU32(e.armOnExec),
	} {
		if err := spec.Variables[name].Set(v); err != nil {
			return nil, fmt.Errorf("load eBPF path recorder: set %s: %w", name, err)
		}
	}
	p := &paths{}
	err = spec.LoadAndAssign(&p.objs, &ebpf.CollectionOptions{MapReplacements: map[string]*ebpf.Map{
		pathsMapArmed:        e.objs.Armed,
		pathsMapCurrentAt:    e.objs.CurrentAt,
		pathsMapTargetCgroup: e.objs.TargetCgroup,
		pathsMapTracked:      e.objs.Tracked,
		pathsMapDspScratch:   e.objs.DspScratch,
	}})
	if err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			return nil, fmt.Errorf("load eBPF path recorder: the kernel's verifier rejected it: %v", ve)
		}
		if errors.Is(err, ebpf.ErrNotSupported) || errors.Is(err, unix.EINVAL) {
			return nil, &errs.Unsupported{Op: "load eBPF path recorder", Feature: bpfLSMFeature,
				Fix: "use Linux 6.8 or later built with CONFIG_BPF_LSM=y and booted with bpf in lsm=", Err: err}
		}
		if errors.Is(err, unix.EPERM) {
			// The recorder on the same maps loaded: what is refused is
			// this kind of program (trampolines: BPF LSM, fentry).
			return nil, &errs.Unsupported{Op: "load eBPF path recorder",
				Feature: bpfLSMFeature + ": the kernel refused to load them (EPERM) although it loads the syscall recorder",
				Fix:     "use a kernel that lets root load BPF LSM programs (CONFIG_BPF_LSM=y, bpf in lsm=, BPF trampolines)", Err: err}
		}
		return nil, dispatch.LoadError(err)
	}
	return p, nil
}

// attach attaches the LSM programs, then sys_exit, which counts what they
// leave pending.
func (p *paths) attach() error {
	progs := []*ebpf.Program{
		p.objs.ProfgenFileOpen, p.objs.ProfgenFileTruncate, p.objs.ProfgenPathTruncate, p.objs.ProfgenFileIoctl,
		p.objs.ProfgenPathMknod, p.objs.ProfgenPathMkdir, p.objs.ProfgenPathSymlink, p.objs.ProfgenPathUnlink,
		p.objs.ProfgenPathRmdir, p.objs.ProfgenPathLink, p.objs.ProfgenPathRename,
		p.objs.ProfgenSocketBind, p.objs.ProfgenSocketConnect, p.objs.ProfgenTaskKill,
	}
	l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: "sys_exit", Program: p.objs.ProfgenSysExit})
	if err != nil {
		return dispatch.AttachError("sys_exit", err)
	}
	p.links = append(p.links, l)
	for _, prog := range progs {
		l, err := link.AttachLSM(link.LSMOptions{Program: prog})
		if err != nil {
			p.detach()
			if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
				return dispatch.AttachError("lsm", err)
			}
			return &errs.Unsupported{Op: "attach BPF LSM program " + prog.String(), Feature: bpfLSMFeature,
				Fix: "use a kernel built with CONFIG_BPF_LSM=y and boot it with bpf in lsm= (lsm=...,bpf)", Err: err}
		}
		p.links = append(p.links, l)
	}
	return nil
}

func (p *paths) detach() {
	for _, l := range p.links {
		l.Close()
	}
	p.links = nil
}

func (p *paths) close() error {
	p.detach()
	return p.objs.Close()
}

// section reads the kernel's counts into the Landlock section. Accesses
// still pending (a call that had not returned when the recording ended:
// a task killed in it) are not counted.
func (p *paths) section(arch abi.Arch) (*recording.Landlock, []string, error) {
	var (
		k    pathsPkey
		v    pathsPval
		sec  = &recording.Landlock{Accesses: []recording.LandlockAccess{}}
		acc  = map[[2]string]int{}
		bind = map[uint16]uint64{}
		conn = map[uint16]uint64{}
		unr  = map[[2]string]uint64{}
	)
	it := p.objs.PathCounts.Iterate()
	for it.Next(&k, &v) {
		switch {
		case int(k.Kind) < len(recording.LandlockRights):
			path := cString(k.Path[:])
			right := recording.LandlockRights[k.Kind]
			key := [2]string{path, right}
			i, ok := acc[key]
			if !ok {
				i = len(sec.Accesses)
				acc[key] = i
				sec.Accesses = append(sec.Accesses, recording.LandlockAccess{Path: path, Right: right, Seen: 1})
			}
			a := &sec.Accesses[i]
			a.OK += v.Ok
			a.Failed += v.Failed
			if t := pathType(k.Type); t != "" && (a.Type == "" || v.Ok > 0) {
				a.Type = t
			}
		case k.Kind == pathKindTCPBind:
			bind[k.Port] += v.Ok
		case k.Kind == pathKindTCPConnect:
			conn[k.Port] += v.Ok
		case k.Kind == pathKindAbstractUnix:
			sec.AbstractUnix += v.Ok + v.Failed
		case k.Kind == pathKindSignalsOutside:
			sec.SignalsOutside += v.Ok + v.Failed
		default:
			reason, ok := unresolvedReasons[k.Kind]
			if !ok {
				reason = fmt.Sprintf("unknown kind %d", k.Kind)
			}
			if int(k.Port) < len(recording.LandlockRights) {
				reason = recording.LandlockRights[k.Port] + ": " + reason
			}
			name, err := abi.SyscallName(arch, int(k.Nr))
			if err != nil {
				name = fmt.Sprintf("#%d", k.Nr)
			}
			unr[[2]string{name, reason}] += v.Ok + v.Failed
		}
	}
	if err := it.Err(); err != nil {
		return nil, nil, fmt.Errorf("read path counts: %w", err)
	}
	for port, n := range bind {
		if n > 0 {
			sec.TCPBind = append(sec.TCPBind, recording.LandlockPort{Port: port, Count: n, Seen: 1})
		}
	}
	for port, n := range conn {
		if n > 0 {
			sec.TCPConnect = append(sec.TCPConnect, recording.LandlockPort{Port: port, Count: n, Seen: 1})
		}
	}
	for k, n := range unr {
		sec.Unresolved = append(sec.Unresolved, recording.LandlockUnresolved{Syscall: k[0], Reason: k[1], Count: n})
	}
	sec.Normalize()
	var notes []string
	var lost [2]uint64
	for i := range lost {
		if err := p.objs.PathLost.Lookup(uint32(i), &lost[i]); err != nil {
			return nil, nil, fmt.Errorf("read path counts: %w", err)
		}
	}
	if lost[0] > 0 {
		notes = append(notes, fmt.Sprintf("landlock: %d accesses were not recorded: the kernel map of paths was full", lost[0]))
	}
	if lost[1] > 0 {
		notes = append(notes, fmt.Sprintf("landlock: %d accesses were not recorded: more than 8 in one call, or no task storage", lost[1]))
	}
	return sec, notes, nil
}

func pathType(t uint8) string {
	switch t {
	case 1:
		return recording.FileDir
	case 2:
		return recording.FileReg
	case 3:
		return recording.FileOther
	}
	return ""
}

// marshalSection is the section's JSON.
func marshalSection(sec *recording.Landlock) (json.RawMessage, error) {
	b, err := json.Marshal(sec)
	if err != nil {
		return nil, fmt.Errorf("landlock section: %w", err)
	}
	return b, nil
}

// cString is the NUL-terminated string at the start of b.
func cString(b []int8) string {
	out := make([]byte, 0, 64)
	for _, c := range b {
		if c == 0 {
			break
		}
		out = append(out, byte(c))
	}
	return string(out)
}
