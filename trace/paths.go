package trace

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"github.com/cilium/ebpf/ringbuf"
	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/internal/cgroup"
	"github.com/profgen/profgen/recording"
)

// Kinds of a path_seen key beyond the Landlock rights (trace/bpf/paths.h,
// enum right).
const (
	pathKindTCPBind      = 32
	pathKindTCPConnect   = 33
	pathKindAbstractUnix = 34
)

// Events of path_events (pevent.what) and where their directory is.
const (
	pevFile   = 1
	pevExec   = 2
	pevName   = 3
	pevSignal = 4

	pdirNone    = 0
	pdirWalked  = 1
	pdirUnknown = 2
)

// pathCalls gives the class (trace/bpf/paths.h, enum pcall) of each
// syscall the path recorder looks at; pcExecDone is a successful execve's
// script.
var pathCalls = []string{
	"", "open", "openat", "openat2", "creat", "execve", "execveat",
	"mkdir", "mkdirat", "mknod", "mknodat", "rmdir", "unlink", "unlinkat",
	"rename", "renameat", "renameat2", "link", "linkat", "symlink", "symlinkat",
	"truncate", "ftruncate", "ioctl", "bind", "connect", "kill", "tkill", "tgkill",
}

const pcExecDone = 29

// pathNrs is path_nr: the class of each native syscall number.
func pathNrs(arch abi.Arch) ([bpfMaxNr]uint8, error) {
	var out [bpfMaxNr]uint8
	for pc, name := range pathCalls {
		if name == "" {
			continue
		}
		nr, err := abi.SyscallNumber(arch, name)
		if err != nil {
			continue // not on this architecture (open, creat ... on arm64)
		}
		if nr < 0 || nr >= bpfMaxNr {
			return out, fmt.Errorf("path recorder: syscall %s (%d) is beyond the recorder's %d", name, nr, bpfMaxNr)
		}
		out[nr] = uint8(pc)
	}
	return out, nil
}

// Offsets of a pevent (recorder_x86_bpfel.go's recorderPevent mirrors
// trace/bpf/paths.h).
var (
	pevSize     = int(unsafe.Sizeof(recorderPevent{}))
	pevStr      = int(unsafe.Offsetof(recorderPevent{}.Str))
	pevNm       = int(unsafe.Offsetof(recorderPevent{}.Nm))
	pevId       = int(unsafe.Offsetof(recorderPevent{}.Id))
	pevNameSize = len(recorderPevent{}.Nm.Names[0])
)

// pevent is a decoded path event.
type pevent struct {
	what, pc, nr, side uint32
	ret                int64
	arg, call          uint64
	tgid, exe, dir     uint32
	deleted            bool
	id                 recorderPident
	str                string
	// names are the walked path's components, the file's own first;
	// complete is 1 when the walk reached the process's root.
	names    []string
	complete uint32
}

func decodePevent(b []byte) (*pevent, bool) {
	if len(b) < pevSize {
		return nil, false
	}
	le := binary.LittleEndian
	ev := &pevent{
		what: le.Uint32(b[0:]), pc: le.Uint32(b[4:]), nr: le.Uint32(b[8:]), side: le.Uint32(b[12:]),
		ret: int64(le.Uint64(b[16:])), arg: le.Uint64(b[24:]), call: le.Uint64(b[32:]),
		tgid: le.Uint32(b[40:]), exe: le.Uint32(b[44:]), dir: le.Uint32(b[48:]), deleted: le.Uint32(b[52:]) != 0,
		id: recorderPident{Dentry: le.Uint64(b[pevId:]), Mnt: le.Uint64(b[pevId+8:]),
			HashLen: le.Uint64(b[pevId+16:]), Parent: le.Uint64(b[pevId+24:])},
		str: cBytes(b[pevStr:pevNm]),
	}
	n, complete := le.Uint32(b[pevNm:]), le.Uint32(b[pevNm+4:])
	if n > bpfExeNames {
		return nil, false
	}
	ev.complete = complete
	for i := range int(n) {
		off := pevNm + 12 + i*pevNameSize
		ev.names = append(ev.names, cBytes(b[off:off+pevNameSize]))
	}
	return ev, true
}

// cBytes is b up to its first NUL (all of b when it has none).
func cBytes(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// walked is the absolute path of a walk, or why there is none.
func (ev *pevent) walked() (string, string) {
	switch {
	case ev.deleted:
		return "", "file already removed (unlinked) when accessed"
	case ev.complete == 2:
		return "", "no path: outside the process's root, or a pseudo file (pipe, socket, anonymous inode)"
	case ev.complete != 1:
		return "", fmt.Sprintf("path deeper than %d directories", bpfExeNames)
	}
	parts := make([]string, len(ev.names))
	for i, n := range ev.names {
		if n == "" {
			return "", "the kernel could not read a name of the path"
		}
		parts[len(parts)-1-i] = n
	}
	return "/" + strings.Join(parts, "/"), ""
}

// pathAcc is one (path, right) of the section being built, by executable
// slot and phase.
type pathAcc struct {
	path, right string
	exe, phase  uint32
}

type pathVal struct {
	typ        string
	ok, failed uint64
}

// pathsRec reads path_events while the target runs and builds the
// landlock section at Collect (trace/bpf/paths.h).
type pathsRec struct {
	e      *EBPF
	reader *ringbuf.Reader
	done   chan struct{}

	mu sync.Mutex
	// root is the target's root directory (an O_PATH descriptor of the
	// first process's /proc/PID/root), in which names are resolved.
	root *os.File
	// names: the path of each identity whose event arrived, or why none.
	names map[recorderPident][2]string
	// interps: the ELF interpreter of an executed identity.
	interps map[recorderPident]string
	// byName: the accesses of calls by name, counted per event.
	byName map[pathAcc]*pathVal
	// sides holds the first side of a rename or link until the second.
	sides  map[uint64]*pevent
	unres  map[[2]string]uint64
	joined uint64
	// replacing counts the renames that may have replaced a file at their
	// destination (renamed).
	replacing uint64
	// gone holds the renames and links whose file was gone before its
	// type was read; typedGone counts those typed by the program's own
	// accesses (movedGone).
	gone      []goneMove
	typedGone uint64
	// signals: outside is the count of signals to processes outside the
	// target.
	outside   uint64
	malformed int
	// tgids are the target's processes that sent events: a signal to
	// one of them is inside even when it is gone by the time it is read.
	tgids map[uint32]bool
}

func newPathsRec(e *EBPF) (*pathsRec, error) {
	r, err := ringbuf.NewReader(e.objs.PathEvents)
	if err != nil {
		return nil, fmt.Errorf("read the path recorder's ring buffer: %w", err)
	}
	p := &pathsRec{e: e, reader: r, done: make(chan struct{}),
		names: map[recorderPident][2]string{}, interps: map[recorderPident]string{},
		byName: map[pathAcc]*pathVal{}, sides: map[uint64]*pevent{}, unres: map[[2]string]uint64{},
		tgids: map[uint32]bool{}}
	go func() {
		defer close(p.done)
		for {
			rec, err := r.Read()
			if err != nil {
				return
			}
			ev, ok := decodePevent(rec.RawSample)
			p.mu.Lock()
			if !ok {
				p.malformed++
			} else {
				p.event(ev)
			}
			p.mu.Unlock()
		}
	}()
	return p, nil
}

// stop flushes and closes the reader; what it read stays.
func (p *pathsRec) stop() {
	if p.reader == nil {
		return
	}
	if err := p.reader.Flush(); err != nil {
		p.reader.Close()
	}
	<-p.done
	p.reader.Close()
	p.reader = nil
}

func (p *pathsRec) close() {
	p.stop()
	if p.root != nil {
		p.root.Close()
		p.root = nil
	}
}

// rootOf returns the directory names are resolved in: the target's root,
// from the first process seen (a container's root in a container); for a
// target profgen started (not Attach's), whose root is profgen's, profgen's
// when that process is already gone; "" when none can be told.
func (p *pathsRec) rootOf(tgid uint32) string {
	if p.root == nil {
		f, err := os.OpenFile("/proc/"+strconv.Itoa(int(tgid))+"/root", unix.O_PATH|unix.O_DIRECTORY, 0)
		if err != nil && !p.e.armOnExec {
			f, err = os.OpenFile("/", unix.O_PATH|unix.O_DIRECTORY, 0)
		}
		if err != nil {
			return ""
		}
		p.root = f
	}
	return "/proc/self/fd/" + strconv.Itoa(int(p.root.Fd()))
}

func (p *pathsRec) event(ev *pevent) {
	p.tgids[ev.tgid] = true
	switch ev.what {
	case pevFile, pevExec:
		path, why := ev.walked()
		p.names[ev.id] = [2]string{path, why}
		if ev.what == pevExec && path != "" {
			if root := p.rootOf(ev.tgid); root != "" {
				if interp := elfInterp(root, path); interp != "" {
					p.interps[ev.id] = interp
				}
			}
		}
	case pevName:
		p.nameEvent(ev)
	case pevSignal:
		pid := int32(ev.arg)
		if pid > 0 && p.tgids[uint32(pid)] && ev.pc != 27 {
			break // a process of the target's that sent a path event
		}
		if p.e.signalOutside(pid, ev.pc == 27 /* tkill */) {
			p.outside++
		}
	default:
		p.malformed++
	}
}

// unresolved counts an access of call whose path was not resolved.
func (p *pathsRec) unresolved(call, why string) {
	p.unres[[2]string{call, why}]++
}

// add counts right on path.
func (p *pathsRec) add(ev *pevent, path, right, typ string, ok bool) {
	k := pathAcc{path: path, right: right, exe: ev.exe & 0xffff, phase: ev.exe >> 16}
	v := p.byName[k]
	if v == nil {
		v = &pathVal{}
		p.byName[k] = v
	}
	if typ != "" {
		v.typ = typ
	}
	if ok {
		v.ok++
	} else {
		v.failed++
	}
}

// nameOf is the absolute path of a call by name: the walked directory
// joined with the name, `..` lexically, then the symlinks of the
// directories resolved in the target's root (all of them with follow).
func (p *pathsRec) nameOf(ev *pevent, follow bool) (string, string) {
	var full string
	switch ev.dir {
	case pdirNone:
		full = path.Clean(ev.str)
	case pdirWalked:
		dir, why := ev.walked()
		if why != "" {
			return "", "directory: " + why
		}
		full = path.Join(dir, ev.str)
	default:
		return "", "the directory descriptor was no open file"
	}
	root := p.rootOf(ev.tgid)
	if root == "" {
		return "", "the process was gone before the symlinks of its path could be resolved"
	}
	p.joined++
	res, err := resolveIn(root, full, follow)
	if err != nil {
		return full, ""
	}
	return res, ""
}

// lstatType is the type of path in the target's root, "" when gone.
func (p *pathsRec) lstatType(tgid uint32, path string) string {
	root := p.rootOf(tgid)
	if root == "" {
		return ""
	}
	st, err := os.Lstat(root + path)
	if err != nil {
		return ""
	}
	switch {
	case st.IsDir():
		return recording.FileDir
	case st.Mode().IsRegular():
		return recording.FileReg
	}
	return recording.FileOther
}

func modeRight(mode uint64) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFCHR:
		return "make_char"
	case unix.S_IFBLK:
		return "make_block"
	case unix.S_IFIFO:
		return "make_fifo"
	case unix.S_IFSOCK:
		return "make_sock"
	case unix.S_IFDIR:
		return "make_dir"
	case unix.S_IFLNK:
		return "make_sym"
	}
	return "make_reg"
}

func typeMode(typ string, lmode os.FileMode) uint64 {
	switch {
	case typ == recording.FileDir:
		return unix.S_IFDIR
	case typ == recording.FileReg:
		return unix.S_IFREG
	case lmode&os.ModeSymlink != 0:
		return unix.S_IFLNK
	case lmode&os.ModeNamedPipe != 0:
		return unix.S_IFIFO
	case lmode&os.ModeSocket != 0:
		return unix.S_IFSOCK
	case lmode&os.ModeCharDevice != 0:
		return unix.S_IFCHR
	case lmode&os.ModeDevice != 0:
		return unix.S_IFBLK
	}
	return unix.S_IFREG
}

func (p *pathsRec) nameEvent(ev *pevent) {
	call := "execve"
	if int(ev.pc) < len(pathCalls) {
		call = pathCalls[ev.pc]
	}
	ok := ev.ret >= 0
	switch call {
	case "rename", "renameat", "renameat2", "link", "linkat":
		first, ok := p.sides[ev.call]
		if !ok {
			p.sides[ev.call] = ev
			return
		}
		delete(p.sides, ev.call)
		if first.side == 1 {
			first, ev = ev, first
		}
		p.twoNames(call, first, ev)
		return
	}
	follow := call == "truncate" || call == "execve" || call == "execveat" || ev.pc == pcExecDone ||
		((call == "open" || call == "openat" || call == "openat2" || call == "creat") && ev.arg&unix.O_NOFOLLOW == 0)
	full, why := p.nameOf(ev, follow)
	if why != "" {
		p.unresolved(call, why)
		return
	}
	switch call {
	case "open", "openat", "openat2", "creat":
		typ := p.lstatType(ev.tgid, full)
		read := "read_file"
		if typ == recording.FileDir {
			read = "read_dir"
		}
		switch ev.arg & unix.O_ACCMODE {
		case unix.O_RDONLY:
			if ev.arg&unix.O_PATH == 0 {
				p.add(ev, full, read, typ, false)
			}
		case unix.O_WRONLY:
			p.add(ev, full, "write_file", typ, false)
		case unix.O_RDWR:
			p.add(ev, full, read, typ, false)
			p.add(ev, full, "write_file", typ, false)
		}
		if ev.arg&unix.O_TRUNC != 0 && ev.arg&unix.O_PATH == 0 { // read-only too (trace/bpf/paths.h, open_done)
			p.add(ev, full, "truncate", typ, false)
		}
	case "mkdir", "mkdirat":
		p.add(ev, full, "make_dir", recording.FileDir, ok)
	case "mknod", "mknodat":
		typ := recording.FileOther
		if r := modeRight(ev.arg); r == "make_reg" {
			typ = recording.FileReg
		}
		p.add(ev, full, modeRight(ev.arg), typ, ok)
	case "rmdir":
		p.add(ev, full, "remove_dir", recording.FileDir, ok)
	case "unlink":
		p.add(ev, full, "remove_file", "", ok)
	case "unlinkat":
		if ev.arg&unix.AT_REMOVEDIR != 0 {
			p.add(ev, full, "remove_dir", recording.FileDir, ok)
		} else {
			p.add(ev, full, "remove_file", "", ok)
		}
	case "symlink", "symlinkat":
		p.add(ev, full, "make_sym", recording.FileOther, ok)
	case "truncate":
		p.add(ev, full, "truncate", recording.FileReg, ok)
	case "bind": // a UNIX socket bound to a path: its file made
		p.add(ev, full, "make_sock", recording.FileOther, ok)
	default: // execve: failed, or a script
		p.add(ev, full, "execute", recording.FileReg, ok)
		p.add(ev, full, "read_file", recording.FileReg, ok)
	}
}

// twoNames counts a rename or link: remove_* at the old path and make_*
// at the new one (a link: make_* only; a rename that may replace an entry:
// remove_* there too), both ways for RENAME_EXCHANGE,
// and refer on both when the directories differ, by the type of the file
// moved.
func (p *pathsRec) twoNames(call string, old, new *pevent) {
	if old.str == "" {
		p.linkedFD(call, old, new)
		return
	}
	oldPath, why := p.nameOf(old, false)
	if why == "" {
		var newWhy string
		newPath, newWhy := p.nameOf(new, false)
		why = newWhy
		if why == "" {
			p.renamed(call, old, oldPath, newPath)
			return
		}
	}
	p.unresolved(call, why)
}

// linkedFD counts a linkat of a descriptor's file (AT_EMPTY_PATH; old is
// the descriptor's file walked, without a name): make_* at the new path by
// the type found there, and refer on both when the file's directory is
// another. A file without a name (O_TMPFILE, walked as removed) has its
// directory, from the walk, but no path for the refer of the source:
// unresolved then.
func (p *pathsRec) linkedFD(call string, old, new *pevent) {
	newPath, why := p.nameOf(new, false)
	if why != "" {
		p.unresolved(call, why)
		return
	}
	if new.ret < 0 {
		p.unresolved(call, "a failed link of a descriptor's file (AT_EMPTY_PATH): its type is not known")
		return
	}
	oldPath, why := old.walked()
	if why != "" {
		if !old.deleted || old.complete != 1 || len(old.names) < 2 {
			p.unresolved(call, "source: "+why)
			return
		}
		// No name, but its directory, from the walk: counted as a link
		// within it, and refer, needed when that is another one, as
		// unresolved.
		parts := slices.Clone(old.names[1:])
		slices.Reverse(parts)
		if "/"+strings.Join(parts, "/") != path.Dir(newPath) {
			p.unresolved(call, "refer at the source: a file without a name (O_TMPFILE) linked into another directory")
		}
		oldPath = newPath
	}
	st, err := os.Lstat(p.rootOf(new.tgid) + newPath)
	if err != nil {
		p.gone = append(p.gone, goneMove{call: call, ev: new, oldPath: oldPath, newPath: newPath})
		return
	}
	typ := p.lstatType(new.tgid, newPath)
	p.moved(call, new, oldPath, newPath, typ, typeMode(typ, st.Mode()), p.add)
}

func (p *pathsRec) renamed(call string, ev *pevent, oldPath, newPath string) {
	ok := ev.ret >= 0
	// The moved file is at the new path once done, at the old one when
	// the call failed.
	at := newPath
	if !ok {
		at = oldPath
	}
	root := p.rootOf(ev.tgid)
	st, err := os.Lstat(root + at)
	if err != nil {
		// Gone already (removed right after the call): its type may
		// still be known from the program's own accesses (section).
		p.gone = append(p.gone, goneMove{call: call, ev: ev, oldPath: oldPath, newPath: newPath})
		return
	}
	typ := p.lstatType(ev.tgid, at)
	p.moved(call, ev, oldPath, newPath, typ, typeMode(typ, st.Mode()), p.add)
}

// goneMove is a rename or link whose file was gone before its type could
// be read.
type goneMove struct {
	call             string
	ev               *pevent
	oldPath, newPath string
}

// moved counts a rename or link of a file of type typ (mode its S_IF
// type) through add.
func (p *pathsRec) moved(call string, ev *pevent, oldPath, newPath, typ string, mode uint64, add func(ev *pevent, path, right, typ string, ok bool)) {
	ok := ev.ret >= 0
	root := p.rootOf(ev.tgid)
	remove := "remove_file"
	if typ == recording.FileDir {
		remove = "remove_dir"
	}
	if strings.HasPrefix(call, "rename") {
		add(ev, oldPath, remove, typ, ok)
	}
	add(ev, newPath, modeRight(mode), typ, ok)
	// A rename that replaces an entry also removes it, which Landlock
	// grants by remove_* on the destination's directory (the replaced
	// entry is of the moved one's kind: a file over a file, a directory
	// over an empty directory). Whether one was there is gone by the
	// call's return, so a plain rename records the right the replace
	// would need, counted in a note; RENAME_NOREPLACE replaced nothing,
	// RENAME_EXCHANGE is below.
	if strings.HasPrefix(call, "rename") && (call != "renameat2" || ev.arg&(unix.RENAME_NOREPLACE|unix.RENAME_EXCHANGE) == 0) {
		add(ev, newPath, remove, typ, ok)
		p.replacing++
	}
	if call == "renameat2" && ev.arg&unix.RENAME_EXCHANGE != 0 {
		otyp := p.lstatType(ev.tgid, oldPath)
		if ost, err := os.Lstat(root + oldPath); err == nil {
			oremove := "remove_file"
			if otyp == recording.FileDir {
				oremove = "remove_dir"
			}
			add(ev, newPath, oremove, otyp, ok)
			add(ev, oldPath, modeRight(typeMode(otyp, ost.Mode())), otyp, ok)
		} else {
			p.unresolved(call, "the exchanged file was gone before its type was read")
		}
	}
	if path.Dir(oldPath) != path.Dir(newPath) {
		add(ev, oldPath, "refer", typ, ok)
		add(ev, newPath, "refer", typ, ok)
	}
}

// movedGone counts the renames and links whose file was gone when read by
// the type the kernel gave the file when the program accessed it under
// either name (all: the accesses so far, by type): a regular file or a
// directory, when every such access agrees; else they are unresolved.
func (p *pathsRec) movedGone(all map[pathAcc]*pathVal, add func(ev *pevent, path, right, typ string, ok bool)) {
	types := map[string]map[string]bool{}
	for k, v := range all {
		if v.typ != "" {
			if types[k.path] == nil {
				types[k.path] = map[string]bool{}
			}
			types[k.path][v.typ] = true
		}
	}
	for _, g := range p.gone {
		seen := map[string]bool{}
		for t := range types[g.oldPath] {
			seen[t] = true
		}
		for t := range types[g.newPath] {
			seen[t] = true
		}
		var typ string
		for t := range seen {
			typ = t
		}
		if len(seen) != 1 || (typ != recording.FileReg && typ != recording.FileDir) {
			p.unresolved(g.call, "the file was gone before its type was read")
			continue
		}
		p.typedGone++
		p.moved(g.call, g.ev, g.oldPath, g.newPath, typ, typeMode(typ, 0), add)
	}
}

// resolveIn resolves the symlinks of path's directories (and of its last
// component with follow) in root, as the kernel would: an absolute link
// starts again at root, `..` never leaves it. A component missing ends
// the resolution (the rest is kept as given).
func resolveIn(root, p string, follow bool) (string, error) {
	rest := strings.Split(strings.TrimPrefix(path.Clean(p), "/"), "/")
	cur := "/"
	for links := 0; len(rest) > 0; {
		c := rest[0]
		rest = rest[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			cur = path.Dir(cur)
			continue
		}
		next := path.Join(cur, c)
		if len(rest) == 0 && !follow {
			return next, nil
		}
		st, err := os.Lstat(root + next)
		if err != nil {
			return path.Join(append([]string{next}, rest...)...), nil
		}
		if st.Mode()&os.ModeSymlink == 0 {
			cur = next
			continue
		}
		if links++; links > 40 {
			return "", errors.New("too many levels of symbolic links")
		}
		target, err := os.Readlink(root + next)
		if err != nil {
			return "", err
		}
		if strings.HasPrefix(target, "/") {
			cur = "/"
		}
		rest = append(strings.Split(strings.TrimPrefix(target, "/"), "/"), rest...)
	}
	return cur, nil
}

// elfInterp is the resolved ELF interpreter (PT_INTERP) of the executable
// at exe in root, which the kernel opens for execution too; "" for none.
func elfInterp(root, exe string) string {
	f, err := elf.Open(root + exe)
	if err != nil {
		return ""
	}
	defer f.Close()
	for _, prog := range f.Progs {
		if prog.Type != elf.PT_INTERP {
			continue
		}
		b := make([]byte, prog.Filesz)
		if _, err := prog.ReadAt(b, 0); err != nil {
			return ""
		}
		interp := cBytes(b)
		if !strings.HasPrefix(interp, "/") {
			return ""
		}
		res, err := resolveIn(root, interp, true)
		if err != nil {
			return ""
		}
		return res
	}
	return ""
}

// rightSyscall names the call an access of a file by descriptor came from,
// for an unresolved one.
func rightSyscall(right string) string {
	switch right {
	case "execute":
		return "execve"
	case "ioctl_dev":
		return "ioctl"
	case "truncate":
		return "open/ftruncate"
	}
	return "open"
}

// section reads path_seen and what the events said into the landlock
// section, with the executables and phases of each access.
func (p *pathsRec) section(exes map[uint32]string, ready bool) (*recording.Landlock, []string, error) {
	p.stop()
	p.mu.Lock()
	defer p.mu.Unlock()
	phases := [bpfPhases]string{recording.PhaseRun, recording.PhaseServing}
	if ready {
		phases[0] = recording.PhaseStartup
	}
	all := map[pathAcc]*pathVal{}
	for k, v := range p.byName {
		all[k] = v
	}
	addTo := func(k pathAcc, typ string, ok bool, n uint64) {
		v := all[k]
		if v == nil {
			v = &pathVal{}
			all[k] = v
		}
		if typ != "" && (v.typ == "" || ok) {
			v.typ = typ
		}
		if ok {
			v.ok += n
		} else {
			v.failed += n
		}
	}
	var (
		k    recorderPseenKey
		n    uint64
		bind = map[uint16]uint64{}
		conn = map[uint16]uint64{}
		sec  = &recording.Landlock{Accesses: []recording.LandlockAccess{}}
	)
	// The counts still in the CPUs' caches (trace/bpf/paths.h, path_cache).
	cached := map[recorderPseenKey]uint64{}
	var (
		slot uint32
		ents []recorderPcacheEnt
	)
	cit := p.e.objs.PathCache.Iterate()
	for cit.Next(&slot, &ents) {
		for _, c := range ents {
			if c.N > 0 {
				cached[c.K] += c.N
			}
		}
	}
	if err := cit.Err(); err != nil {
		return nil, nil, fmt.Errorf("read path counts: %w", err)
	}
	it := p.e.objs.PathSeen.Iterate()
	for it.Next(&k, &n) {
		n += cached[k]
		if n == 0 {
			continue
		}
		kind, typ, ok := k.Kind&0xff, pathType(uint8(k.Kind>>8)), k.Kind>>16&1 == 1
		exe, ph := k.Exe&0xffff, k.Exe>>16
		switch {
		case int(kind) < len(recording.LandlockRights):
			right := recording.LandlockRights[kind]
			name, seen := p.names[k.Id]
			if !seen {
				p.unres[[2]string{rightSyscall(right), "path not delivered: the recorder's event ring was full"}] += n
				continue
			}
			if name[0] == "" {
				p.unres[[2]string{rightSyscall(right), right + ": " + name[1]}] += n
				continue
			}
			addTo(pathAcc{path: name[0], right: right, exe: exe, phase: ph}, typ, ok, n)
			if interp := p.interps[k.Id]; interp != "" && right == "execute" && ok {
				addTo(pathAcc{path: interp, right: "execute", exe: exe, phase: ph}, recording.FileReg, true, n)
				addTo(pathAcc{path: interp, right: "read_file", exe: exe, phase: ph}, recording.FileReg, true, n)
			}
		case kind == pathKindTCPBind && ok:
			bind[uint16(k.Id.Dentry)] += n
		case kind == pathKindTCPConnect && ok:
			conn[uint16(k.Id.Dentry)] += n
		case kind == pathKindAbstractUnix && ok:
			sec.AbstractUnix += n
		}
	}
	if err := it.Err(); err != nil {
		return nil, nil, fmt.Errorf("read path counts: %w", err)
	}
	p.movedGone(all, func(ev *pevent, path, right, typ string, ok bool) {
		addTo(pathAcc{path: path, right: right, exe: ev.exe & 0xffff, phase: ev.exe >> 16}, typ, ok, 1)
	})
	// One entry per (path, right), with the executables and phases.
	idx := map[[2]string]int{}
	for k, v := range all {
		key := [2]string{k.path, k.right}
		i, ok := idx[key]
		if !ok {
			i = len(sec.Accesses)
			idx[key] = i
			sec.Accesses = append(sec.Accesses, recording.LandlockAccess{Path: k.path, Right: k.right, Seen: 1})
		}
		a := &sec.Accesses[i]
		a.OK += v.ok
		a.Failed += v.failed
		if v.typ != "" && (a.Type == "" || v.ok > 0) {
			a.Type = v.typ
		}
		if exe, ok := exes[k.exe]; ok {
			if !slices.Contains(a.Exes, exe) {
				a.Exes = append(a.Exes, exe)
			}
		} else {
			a.OtherExes++
		}
		if int(k.phase) < len(phases) && v.ok+v.failed > 0 {
			if a.Phases == nil {
				a.Phases = map[string]uint64{}
			}
			a.Phases[phases[k.phase]] += v.ok + v.failed
		}
	}
	for i := range sec.Accesses {
		slices.Sort(sec.Accesses[i].Exes)
		if len(sec.Accesses[i].Exes) > 0 {
			sec.Accesses[i].OtherExes = 0
		}
	}
	for port, n := range bind {
		sec.TCPBind = append(sec.TCPBind, recording.LandlockPort{Port: port, Count: n, Seen: 1})
	}
	for port, n := range conn {
		sec.TCPConnect = append(sec.TCPConnect, recording.LandlockPort{Port: port, Count: n, Seen: 1})
	}
	for k, n := range p.unres {
		sec.Unresolved = append(sec.Unresolved, recording.LandlockUnresolved{Syscall: k[0], Reason: k[1], Count: n})
	}
	for _, ev := range p.sides {
		sec.Unresolved = append(sec.Unresolved, recording.LandlockUnresolved{Syscall: pathCalls[ev.pc], Reason: "one of its two names was not delivered", Count: 1})
	}
	sec.SignalsOutside = p.outside
	sec.Normalize()
	var notes []string
	var lost [3]uint64
	for i := range lost {
		if err := p.e.objs.PathLost.Lookup(uint32(i), &lost[i]); err != nil {
			return nil, nil, fmt.Errorf("read path counts: %w", err)
		}
	}
	if lost[0]+lost[2] > 0 {
		notes = append(notes, fmt.Sprintf("landlock: %d accesses were not recorded: the kernel map of paths was full", lost[0]+lost[2]))
	}
	if lost[1] > 0 {
		notes = append(notes, fmt.Sprintf("landlock: %d path events were lost: the recorder's event ring was full (see unresolved)", lost[1]))
	}
	if p.malformed > 0 {
		notes = append(notes, fmt.Sprintf("landlock: %d path events could not be read", p.malformed))
	}
	if p.joined > 0 {
		notes = append(notes, fmt.Sprintf("landlock: the paths of %d calls by name (mkdir, unlink, rename, a failed open ...) joined the directory the kernel resolved with the name the program gave; symlinks in that name were resolved when recorded (docs/recording.md#paths)", p.joined))
	}
	if p.typedGone > 0 {
		notes = append(notes, fmt.Sprintf("landlock: %d renames or links of a file removed before its type could be read took the type the kernel gave it when the program opened it (docs/recording.md#paths)", p.typedGone))
	}
	if p.replacing > 0 {
		notes = append(notes, fmt.Sprintf("landlock: %d renames (without RENAME_NOREPLACE) record remove_file or remove_dir at their destination: the right Landlock needs when a rename replaces an entry, which the recorder cannot tell by the call's return (docs/landlock.md#recording)", p.replacing))
	}
	return sec, notes, nil
}

// signalOutside reports whether a signal to pid (kill's pid: <= 0 a
// process group or every process; tkill's: a thread) reached a process
// outside the target: by the tracked processes in process-tree mode, by
// its cgroup in cgroup mode. A process already gone counts as outside: the
// recording never claims less than it saw.
func (e *EBPF) signalOutside(pid int32, thread bool) bool {
	if pid == 0 {
		return false // the caller's own process group
	}
	if pid < 0 {
		if pid == -1 {
			return true
		}
		pid = -pid // a process group: judged by its leader
	}
	tgid := int(pid)
	if thread {
		st, err := os.ReadFile("/proc/" + strconv.Itoa(int(pid)) + "/status")
		if err != nil {
			return true
		}
		for _, line := range strings.Split(string(st), "\n") {
			if v, ok := strings.CutPrefix(line, "Tgid:"); ok {
				if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
					tgid = n
				}
			}
		}
	}
	if e.mode == bpfModeTree {
		var v uint32
		return e.objs.Tracked.Lookup(uint32(tgid), &v) != nil || v != bpfTrackTarget
	}
	cg, err := cgroup.Of(tgid)
	if err != nil || e.cgPath == "" {
		return true
	}
	return cg != e.cgPath && !strings.HasPrefix(cg, e.cgPath+"/")
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
