package learn_test

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/recording"
)

// Requests of asm-generic/ioctls.h that x/sys/unix does not name.
const (
	fionbio   = 0x5421
	fionclex  = 0x5450
	fioclex   = 0x5451
	tiocsetd  = 0x5423
	tioclinux = 0x541c
	tioccons  = 0x541d
	tiocsctty = 0x540e

	// madvSoftOffline is MADV_SOFT_OFFLINE (asm-generic/mman-common.h), which
	// x/sys/unix does not name.
	madvSoftOffline = 101
)

// envRecording is an amd64 recording with argument shapes of the given
// syscalls: a name alone is a syscall without captured arguments, and
// pinned gives the values of the enum argument idx of one that has.
func envRecording(names []string, pinned ...pinnedCall) *recording.Recording {
	rec := &recording.Recording{Version: recording.Version, Arch: "amd64", ArgShapes: true, Inputs: 1}
	for _, n := range names {
		rec.Syscalls = append(rec.Syscalls, recording.Syscall{Name: n, Count: 1, Seen: 1})
	}
	for _, p := range pinned {
		s := recording.Syscall{Name: p.name, Count: 1, Seen: 1, Args: []recording.Arg{{Index: p.idx, Name: "arg", Kind: p.kind, Mask: 0xffffffff}}}
		if p.kind == "" {
			s.Args[0].Kind = recording.KindEnum
		}
		if p.mask != 0 {
			s.Args[0].Mask = recording.Hex(p.mask)
		}
		for _, v := range p.values {
			s.Shapes = append(s.Shapes, recording.Shape{Values: []recording.Hex{recording.Hex(v)}, Count: 1})
		}
		rec.Syscalls = append(rec.Syscalls, s)
	}
	return rec
}

type pinnedCall struct {
	name   string
	idx    int
	kind   recording.ArgKind
	mask   uint64
	values []uint64
}

func learnEnv(t *testing.T, rec *recording.Recording, opts learn.Options) *learn.Profile {
	t.Helper()
	p, err := learn.FromRecording(rec, opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

type envCase struct {
	what string
	name string
	args [6]uint64
	want learn.Action
}

func checkEnv(t *testing.T, p *learn.Profile, cases []envCase) {
	t.Helper()
	for _, c := range cases {
		if got := p.Verdict(c.name, c.args); got != c.want {
			t.Errorf("%s: %s(%#x): %s, want %s", c.what, c.name, c.args[:3], got, c.want)
		}
	}
}

// dangerousIoctls reach the terminal or the device: never added.
var dangerousIoctls = []envCase{
	{"TIOCSTI", "ioctl", [6]uint64{1, unix.TIOCSTI}, eperm},
	{"TIOCSETD", "ioctl", [6]uint64{1, tiocsetd}, eperm},
	{"TIOCLINUX", "ioctl", [6]uint64{1, tioclinux}, eperm},
	{"TIOCCONS", "ioctl", [6]uint64{1, tioccons}, eperm},
	{"TIOCSCTTY", "ioctl", [6]uint64{1, tiocsctty}, eperm},
	{"TCSETS", "ioctl", [6]uint64{1, unix.TCSETS}, eperm},
	{"SO_PEERCRED", "getsockopt", [6]uint64{0, unix.SOL_SOCKET, unix.SO_PEERCRED}, eperm},
}

// descriptorKindAllowed is what the descriptor kind class allows.
var descriptorKindAllowed = []envCase{
	{"isatty", "ioctl", [6]uint64{1, unix.TCGETS}, allow},
	{"window size", "ioctl", [6]uint64{1, unix.TIOCGWINSZ}, allow},
	{"foreground group", "ioctl", [6]uint64{1, unix.TIOCGPGRP}, allow},
	{"libuv non-blocking", "ioctl", [6]uint64{1, fionbio}, allow},
	{"close-on-exec", "ioctl", [6]uint64{1, fioclex}, allow},
	{"not close-on-exec", "ioctl", [6]uint64{1, fionclex}, allow},
	{"libuv socket type", "getsockopt", [6]uint64{1, unix.SOL_SOCKET, unix.SO_TYPE}, allow},
	{"libuv socket address", "getsockname", [6]uint64{1}, allow},
}

// TestEnvClassDescriptorKind: a program recorded with its standard
// streams files made fstat (glibc's stdio, libuv's uv_guess_handle) and no
// ioctl at all; with pipes, sockets, /dev/null or a terminal it makes the
// probes and flag changes of the descriptor kind class, which the profile
// allows; requests that reach the terminal or device stay denied.
func TestEnvClassDescriptorKind(t *testing.T) {
	for _, trigger := range []string{"newfstatat", "fstat", "statx"} {
		p := learnEnv(t, envRecording([]string{trigger, "write", "exit_group"}), learn.Options{})
		checkEnv(t, p, descriptorKindAllowed)
		checkEnv(t, p, dangerousIoctls)
		s := p.Lookup("ioctl")
		if s == nil || s.Origin != learn.OriginEnvironment || len(s.Notes) == 0 || !strings.Contains(s.Notes[0], "the recording shows "+trigger) {
			t.Errorf("%s: ioctl entry %+v, want an environment entry whose note names %s", trigger, s, trigger)
		}
	}
	// A recorded fcntl (a descriptor flag change, F_SETFL) and a pinned
	// ioctl: the ioctl entry keeps its recorded request and gains the
	// family, as a recorded entry.
	p := learnEnv(t, envRecording(nil,
		pinnedCall{name: "fcntl", idx: 1, values: []uint64{unix.F_SETFL}},
		pinnedCall{name: "ioctl", idx: 1, values: []uint64{unix.TIOCSTI}},
	), learn.Options{})
	checkEnv(t, p, descriptorKindAllowed)
	checkEnv(t, p, []envCase{{"recorded TIOCSTI", "ioctl", [6]uint64{1, unix.TIOCSTI}, allow}})
	checkEnv(t, p, dangerousIoctls[1:])
	if s := p.Lookup("ioctl"); s.Origin != learn.OriginRecorded {
		t.Errorf("recorded ioctl became %s", s.Origin)
	}
	// No trigger: nothing added.
	p = learnEnv(t, envRecording([]string{"write", "exit_group"}), learn.Options{})
	for _, name := range []string{"ioctl", "getsockopt", "getsockname", "getcwd", "madvise"} {
		if p.Lookup(name) != nil {
			t.Errorf("no trigger recorded, but %s was added: %+v", name, p.Lookup(name))
		}
	}
	// Names only (--args none): a call the class allows only with some
	// values is not added, never the whole syscall; a note says so. The
	// calls without values are.
	p = learnEnv(t, envRecording([]string{"newfstatat"}), learn.Options{Args: learn.ArgsNone})
	checkEnv(t, p, dangerousIoctls)
	checkEnv(t, p, []envCase{{"getsockname", "getsockname", [6]uint64{}, allow}, {"getcwd", "getcwd", [6]uint64{}, allow}})
	if s := p.Lookup("ioctl"); s != nil {
		t.Errorf("names only: ioctl added: %+v", s)
	}
	if notes := strings.Join(p.Notes, "\n"); !strings.Contains(notes, "ioctl not added for the descriptor kind class") {
		t.Errorf("names only: notes %q, want one saying ioctl was not added", p.Notes)
	}
	// Architectures that number ioctls otherwise get no values.
	rec := envRecording([]string{"newfstatat"})
	rec.Arch = "ppc64le"
	p = learnEnv(t, rec, learn.Options{})
	if s := p.Lookup("ioctl"); s != nil {
		t.Errorf("ppc64le: ioctl added: %+v", s)
	}
}

// TestEnvClassWorkingDirectory: Go's os.Getwd with $PWD set stats . and
// $PWD (newfstatat) and calls no getcwd; without PWD (a container) it calls
// getcwd. A recording with a stat allows getcwd; one without, not.
func TestEnvClassWorkingDirectory(t *testing.T) {
	for _, trigger := range []string{"newfstatat", "stat", "lstat", "statx"} {
		p := learnEnv(t, envRecording([]string{trigger}), learn.Options{})
		checkEnv(t, p, []envCase{{"Getwd without PWD", "getcwd", [6]uint64{}, allow}})
		if s := p.Lookup("getcwd"); s.Origin != learn.OriginEnvironment || !s.Unconditional() {
			t.Errorf("%s: getcwd entry %+v", trigger, s)
		}
	}
	p := learnEnv(t, envRecording([]string{"read", "write"}), learn.Options{})
	checkEnv(t, p, []envCase{{"no stat recorded", "getcwd", [6]uint64{}, eperm}})
}

// ownMemory are the advice values that only change how the caller's own
// pages are backed; otherMemory are those that reach files, other
// processes, children or physical pages.
var (
	ownMemory = []uint64{unix.MADV_NORMAL, unix.MADV_RANDOM, unix.MADV_SEQUENTIAL, unix.MADV_WILLNEED,
		unix.MADV_DONTNEED, unix.MADV_FREE, unix.MADV_HUGEPAGE, unix.MADV_NOHUGEPAGE,
		unix.MADV_POPULATE_READ, unix.MADV_POPULATE_WRITE, unix.MADV_COLLAPSE}
	otherMemory = []uint64{unix.MADV_HWPOISON, madvSoftOffline, unix.MADV_REMOVE, unix.MADV_MERGEABLE,
		unix.MADV_UNMERGEABLE, unix.MADV_DONTFORK, unix.MADV_DOFORK, unix.MADV_WIPEONFORK, unix.MADV_KEEPONFORK,
		unix.MADV_COLD, unix.MADV_PAGEOUT, unix.MADV_DONTDUMP, unix.MADV_DODUMP, unix.MADV_GUARD_INSTALL,
		unix.MADV_GUARD_REMOVE, unix.MADV_DONTNEED_LOCKED}
)

func madviseCases(values []uint64, want learn.Action) []envCase {
	var out []envCase
	for _, v := range values {
		out = append(out, envCase{"advice", "madvise", [6]uint64{0, 4096, v}, want})
	}
	return out
}

// TestEnvClassOwnMemory: Go's runtime recorded before its scavenger ran
// shows madvise(MADV_HUGEPAGE) only; the scavenger's MADV_NOHUGEPAGE and
// MADV_DONTNEED, and the other own-memory advice, are allowed. A glibc
// program with threads (clone3, or clone with CLONE_THREAD) that made no
// madvise gets them too (a thread's stack is returned with MADV_DONTNEED
// when it exits). Advice that reaches other processes, files or physical
// pages is never added.
func TestEnvClassOwnMemory(t *testing.T) {
	goRuntime := envRecording(nil, pinnedCall{name: "madvise", idx: 2, values: []uint64{unix.MADV_HUGEPAGE}})
	threads := envRecording([]string{"clone3"})
	pthreadClone := envRecording(nil, pinnedCall{name: "clone", idx: 0, kind: recording.KindFlags, mask: ^uint64(0),
		values: []uint64{unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND | unix.CLONE_THREAD | unix.CLONE_SYSVSEM | unix.CLONE_SETTLS | unix.CLONE_PARENT_SETTID | unix.CLONE_CHILD_CLEARTID}})
	for name, rec := range map[string]*recording.Recording{"Go runtime": goRuntime, "clone3": threads, "pthread clone": pthreadClone} {
		p := learnEnv(t, rec, learn.Options{})
		checkEnv(t, p, madviseCases(ownMemory, allow))
		checkEnv(t, p, madviseCases(otherMemory, eperm))
		if s := p.Lookup("madvise"); s == nil || len(s.Notes) == 0 || !strings.Contains(strings.Join(s.Notes, "\n"), "MADV_DONTNEED") {
			t.Errorf("%s: madvise entry %+v, want a note naming MADV_DONTNEED", name, s)
		}
	}
	// A recorded MADV_DONTFORK stays allowed (recorded), and is not a
	// reason to add MADV_HWPOISON.
	p := learnEnv(t, envRecording(nil, pinnedCall{name: "madvise", idx: 2, values: []uint64{unix.MADV_DONTFORK}}), learn.Options{})
	checkEnv(t, p, madviseCases([]uint64{unix.MADV_DONTFORK}, allow))
	checkEnv(t, p, madviseCases(otherMemory[:2], eperm))
	checkEnv(t, p, madviseCases(ownMemory, allow))
	// fork (clone without CLONE_THREAD) and no madvise: nothing added.
	fork := envRecording(nil, pinnedCall{name: "clone", idx: 0, kind: recording.KindFlags, mask: ^uint64(0),
		values: []uint64{unix.CLONE_CHILD_SETTID | unix.CLONE_CHILD_CLEARTID | uint64(unix.SIGCHLD)}})
	if s := learnEnv(t, fork, learn.Options{}).Lookup("madvise"); s != nil {
		t.Errorf("fork only: madvise added: %+v", s)
	}
}
