package replay

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/filter"
	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/recording"
)

// archRecording is an x86_64 recording of legacy calls (open, stat,
// epoll_wait, arch_prctl) and open flags that aarch64 numbers otherwise.
const archRecording = "../learn/testdata/arch-x86_64.json"

// mapRecording is rec as it would have been made on arch: every event
// through learn.TranslateCall (names replaced with fill, values
// translated), numbered on arch by libseccomp. Events arch has no call
// for are left out and returned.
func mapRecording(t *testing.T, rec *recording.Recording, arch abi.Arch, fill bool) (*recording.Recording, []string) {
	t.Helper()
	out := &recording.Recording{Version: rec.Version, Arch: string(arch), Inputs: rec.Inputs, ArgShapes: rec.ArgShapes}
	var dropped []string
	for _, s := range rec.Syscalls {
		for _, ev := range s.Events() {
			args := ev.Args
			name, targs, ok, err := learn.TranslateCall(abi.Arch(rec.Arch), arch, s.Name, args, fill)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				dropped = append(dropped, s.Name)
				break
			}
			nr, err := abi.SyscallNumber(arch, name)
			if err != nil {
				t.Fatal(err)
			}
			m := recording.Syscall{Name: name, Number: nr, Count: 1, Seen: 1}
			if len(s.Args) > 0 {
				// Every argument, the translated ones at their new
				// index.
				var vals []recording.Hex
				for j, v := range targs {
					m.Args = append(m.Args, recording.Arg{Index: j, Name: "arg", Kind: recording.KindEnum, Mask: recording.Hex(^uint64(0))})
					vals = append(vals, recording.Hex(v))
				}
				m.Shapes = []recording.Shape{{Values: vals, Count: 1, Seen: 1}}
			}
			out.Syscalls = append(out.Syscalls, m)
		}
	}
	return out, dropped
}

// TestStaticOtherArch: a profile written for aarch64 from an x86_64
// recording compiles in libseccomp for aarch64 (AUDIT_ARCH_AARCH64,
// aarch64's numbers), and the recording mapped to aarch64 replays in the
// VM without a violation; the filter kills x86_64 calls, and without
// --arch-fill the replacements are denied.
func TestStaticOtherArch(t *testing.T) {
	rec, err := recording.ReadFile(archRecording)
	if err != nil {
		t.Fatal(err)
	}
	p, err := learn.FromRecording(rec, learn.Options{Runtime: learn.LoaderRunc})
	if err != nil {
		t.Fatal(err)
	}
	arm, _, err := learn.ForArch(p, "arm64", learn.ArchOptions{Fill: true})
	if err != nil {
		t.Fatal(err)
	}
	mapped, dropped := mapRecording(t, rec, "arm64", true)
	if len(dropped) != 1 || dropped[0] != "arch_prctl" {
		t.Errorf("dropped %v, want arch_prctl only", dropped)
	}
	rep, err := Static(arm, mapped)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Violations) != 0 || rep.Checked < uint64(len(mapped.Syscalls)) {
		t.Errorf("aarch64 replay: %d checked, violations %+v", rep.Checked, rep.Violations)
	}

	prog, err := filter.Compile(arm, filter.CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	vm, err := filter.NewVM(prog)
	if err != nil {
		t.Fatal(err)
	}
	nr := func(arch abi.Arch, name string) int32 {
		n, err := abi.SyscallNumber(arch, name)
		if err != nil {
			t.Fatal(err)
		}
		return int32(n)
	}
	if nr("arm64", "openat") == nr("amd64", "openat") {
		t.Fatal("openat has one number on both: the test shows nothing")
	}
	const dirArm, directArm = 0x4000, 0x10000 // O_DIRECTORY and O_DIRECT on aarch64
	for _, tc := range []struct {
		what string
		d    filter.SeccompData
		want uint32
	}{
		{"aarch64 openat O_DIRECTORY|O_CLOEXEC (recorded as x86_64 open)",
			filter.SeccompData{Nr: nr("arm64", "openat"), Arch: unix.AUDIT_ARCH_AARCH64, Args: [6]uint64{2: dirArm | unix.O_CLOEXEC}}, unix.SECCOMP_RET_ALLOW},
		{"aarch64 openat O_DIRECT (x86_64's O_DIRECTORY bit)",
			filter.SeccompData{Nr: nr("arm64", "openat"), Arch: unix.AUDIT_ARCH_AARCH64, Args: [6]uint64{2: directArm | unix.O_CLOEXEC}}, unix.SECCOMP_RET_ERRNO | 1},
		{"aarch64 epoll_pwait (recorded as epoll_wait)",
			filter.SeccompData{Nr: nr("arm64", "epoll_pwait"), Arch: unix.AUDIT_ARCH_AARCH64}, unix.SECCOMP_RET_ALLOW},
		{"aarch64 ptrace",
			filter.SeccompData{Nr: nr("arm64", "ptrace"), Arch: unix.AUDIT_ARCH_AARCH64}, unix.SECCOMP_RET_ERRNO | 1},
		{"x86_64 read, under the aarch64 filter",
			filter.SeccompData{Nr: nr("amd64", "read"), Arch: unix.AUDIT_ARCH_X86_64}, unix.SECCOMP_RET_KILL_PROCESS},
	} {
		if got, err := vm.Run(tc.d); err != nil || got != tc.want {
			t.Errorf("%s: %#x, %v; want %#x", tc.what, got, err, tc.want)
		}
	}

	// Without --arch-fill the replacements are not allowed: the mapped
	// recording's newfstatat (x86_64 stat) is a violation.
	bare, _, err := learn.ForArch(p, "arm64", learn.ArchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err = Static(bare, mapped)
	if err != nil {
		t.Fatal(err)
	}
	denied := map[string]bool{}
	for _, v := range rep.Violations {
		denied[v.Syscall] = true
	}
	for _, name := range []string{"epoll_pwait", "epoll_create1"} {
		if !denied[name] {
			t.Errorf("%s allowed without --arch-fill (violations %v)", name, denied)
		}
	}
}

// TestCompileBothArches: the profile for x86_64 and aarch64 together
// compiles into one filter that checks each architecture with its own
// numbers, as runc builds it from the OCI document listing both.
func TestCompileBothArches(t *testing.T) {
	native, err := abi.Native()
	if err != nil {
		t.Fatal(err)
	}
	if native != "amd64" {
		t.Skipf("the recording is x86_64's; this machine is %s", native)
	}
	rec, err := recording.ReadFile(archRecording)
	if err != nil {
		t.Fatal(err)
	}
	p, err := learn.FromRecording(rec, learn.Options{Runtime: learn.LoaderNone})
	if err != nil {
		t.Fatal(err)
	}
	both, _, err := learn.ForArches(p, []abi.Arch{"amd64", "arm64"}, learn.ArchOptions{Fill: true})
	if err != nil {
		t.Fatal(err)
	}
	prog, err := filter.Compile(both, filter.CompileOptions{Arches: []abi.Arch{"arm64"}})
	if err != nil {
		t.Fatal(err)
	}
	vm, err := filter.NewVM(prog)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		arch abi.Arch
		name string
		want uint32
	}{
		{"amd64", "open", unix.SECCOMP_RET_ALLOW},
		{"amd64", "epoll_wait", unix.SECCOMP_RET_ALLOW},
		{"amd64", "arch_prctl", unix.SECCOMP_RET_ERRNO | 1}, // its code is pinned: 0 is not 0x1002
		{"arm64", "epoll_pwait", unix.SECCOMP_RET_ALLOW},
		{"arm64", "read", unix.SECCOMP_RET_ALLOW},
		{"arm64", "ptrace", unix.SECCOMP_RET_ERRNO | 1},
		{"amd64", "ptrace", unix.SECCOMP_RET_ERRNO | 1},
	} {
		n, err := abi.SyscallNumber(tc.arch, tc.name)
		if err != nil {
			t.Fatal(err)
		}
		audit, err := tc.arch.Audit()
		if err != nil {
			t.Fatal(err)
		}
		if got, err := vm.Run(filter.SeccompData{Nr: int32(n), Arch: audit}); err != nil || got != tc.want {
			t.Errorf("%s %s: %#x, %v; want %#x", tc.arch, tc.name, got, err, tc.want)
		}
	}
}
