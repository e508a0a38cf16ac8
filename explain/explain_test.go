package explain

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unsafe"

	dockerseccomp "github.com/moby/profiles/seccomp"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/filter"
	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/internal/testenv"
	"github.com/profgen/profgen/readers"
)

func mustExplain(t *testing.T, data string) *Report {
	t.Helper()
	r, err := Explain([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func names(ds []Dangerous) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Name)
	}
	return out
}

func TestDangerousAllowed(t *testing.T) {
	r := mustExplain(t, `{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],
		"syscalls":[{"names":["read","write","exit_group","ptrace","bpf","mount"],"action":"SCMP_ACT_ALLOW"}]}`)
	got := names(r.DangerousAllowed)
	if !slices.Equal(got, []string{"bpf", "mount", "ptrace"}) {
		t.Errorf("dangerousAllowed = %v, want bpf mount ptrace", got)
	}
	for _, d := range r.DangerousAllowed {
		if d.Why == "" || d.Conditional {
			t.Errorf("%+v: want a reason and unconditional", d)
		}
	}
	if r.AllowedCount != 6 || !slices.Equal(r.Allowed, []string{"bpf", "exit_group", "mount", "ptrace", "read", "write"}) {
		t.Errorf("allowed %d %v", r.AllowedCount, r.Allowed)
	}
	if r.DefaultAction.String() != "errno(EPERM)" || !slices.Equal(r.Architectures, []string{"amd64"}) {
		t.Errorf("default %s, architectures %v", r.DefaultAction, r.Architectures)
	}
	if len(r.Warnings) != 0 {
		t.Errorf("warnings %q, want none", r.Warnings)
	}
}

func TestCloneNamespaceFlags(t *testing.T) {
	// clone allowed only without namespace flags is not dangerous;
	// allowed with CLONE_NEWUSER it is.
	safe := mustExplain(t, `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
		{"names":["clone"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":2114060416,"valueTwo":0,"op":"SCMP_CMP_MASKED_EQ"}]}]}`)
	if len(safe.DangerousAllowed) != 0 || len(safe.Conditional) != 1 || safe.Conditional[0].Name != "clone" {
		t.Errorf("clone without namespace flags: dangerous %v, conditional %+v", safe.DangerousAllowed, safe.Conditional)
	}
	open := mustExplain(t, `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["clone"],"action":"SCMP_ACT_ALLOW"}]}`)
	if len(open.DangerousAllowed) != 1 || !strings.Contains(open.DangerousAllowed[0].Why, "CLONE_NEWUSER") {
		t.Errorf("clone allowed: dangerous %+v", open.DangerousAllowed)
	}
}

func hasWarning(r *Report, sub string) bool {
	return slices.ContainsFunc(r.Warnings, func(w string) bool { return strings.Contains(w, sub) })
}

func TestWarnAllowAndX32(t *testing.T) {
	r := mustExplain(t, `{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X32"],
		"syscalls":[{"names":["kexec_load"],"action":"SCMP_ACT_ERRNO"}]}`)
	if !hasWarning(r, "default action allow") || !hasWarning(r, "x32 syscalls admitted") {
		t.Errorf("warnings %q, want default action allow and x32", r.Warnings)
	}
	if hasWarning(r, "i386") {
		t.Errorf("warnings %q: i386 is not in the profile", r.Warnings)
	}
	if !slices.Equal(r.Architectures, []string{"amd64", "x32"}) {
		t.Errorf("architectures %v", r.Architectures)
	}
	if r.AllowedCount != r.NativeCount-1 {
		t.Errorf("allowedCount %d, nativeCount %d: want all but kexec_load", r.AllowedCount, r.NativeCount)
	}
}

func TestWarnProfileWeaknesses(t *testing.T) {
	r := mustExplain(t, `{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86"],"syscalls":[
		{"names":["execve","exit_group","no_such_syscall_x"],"action":"SCMP_ACT_ALLOW"},
		{"names":["personality"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":0,"op":"SCMP_CMP_EQ"},{"index":0,"value":8,"op":"SCMP_CMP_EQ"}]}]}`)
	for _, w := range []string{"i386 (x86) syscalls admitted", "execveat is not considered", "2 conditions on argument 0", "unknown to this libseccomp", "no_such_syscall_x"} {
		if !hasWarning(r, w) {
			t.Errorf("no warning %q in %q", w, r.Warnings)
		}
	}
	if len(r.Conditional) != 1 || !slices.Equal(r.Conditional[0].Rules, []string{"arg0 == 0x0", "arg0 == 0x8"}) {
		t.Errorf("conditional %+v", r.Conditional)
	}
}

// raw assembles a filter into the bytes the kernel holds.
func raw(t *testing.T, insns []bpf.Instruction) []byte {
	t.Helper()
	rs, err := bpf.Assemble(insns)
	if err != nil {
		t.Fatal(err)
	}
	prog := make([]unix.SockFilter, len(rs))
	for i, r := range rs {
		prog[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	return filterBytes(prog)
}

func filterBytes(prog []unix.SockFilter) []byte {
	return bytes.Clone(unsafe.Slice((*byte)(unsafe.Pointer(&prog[0])), len(prog)*int(unsafe.Sizeof(prog[0]))))
}

func TestWarnRawWeaknesses(t *testing.T) {
	read := uint32(testenv.SyscallNumber(t, "read"))
	ioctl := uint32(testenv.SyscallNumber(t, "ioctl"))
	// No architecture check; ioctl's request compared on its low word.
	data := raw(t, []bpf.Instruction{
		bpf.LoadAbsolute{Off: 0, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: read, SkipTrue: 4},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: ioctl, SkipFalse: 2},
		bpf.LoadAbsolute{Off: 24, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.TCGETS, SkipTrue: 1},
		bpf.RetConstant{Val: unix.SECCOMP_RET_ERRNO | 1},
		bpf.RetConstant{Val: unix.SECCOMP_RET_ALLOW},
	})
	r, err := Explain(data)
	if err != nil {
		t.Fatal(err)
	}
	if r.Kind != KindBPF || r.Instructions != 7 {
		t.Errorf("kind %s, %d instructions", r.Kind, r.Instructions)
	}
	for _, w := range []string{"no architecture check", "ioctl on amd64: argument 1 compared on its low 32 bits only", "i386 (x86) syscalls admitted"} {
		if !hasWarning(r, w) {
			t.Errorf("no warning %q in %q", w, r.Warnings)
		}
	}
	if !slices.Equal(r.Allowed, []string{"read"}) || len(r.Conditional) != 1 || r.Conditional[0].Name != "ioctl" || !slices.Equal(r.Conditional[0].Args, []int{1}) {
		t.Errorf("allowed %v, conditional %+v", r.Allowed, r.Conditional)
	}
}

// TestCompiledExplainsAlike: a profile and the filter libseccomp compiles
// from it give the same verdicts.
func TestCompiledExplainsAlike(t *testing.T) {
	doc := `{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":38,"architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86"],"syscalls":[
		{"names":["read","write","exit_group","ptrace"],"action":"SCMP_ACT_ALLOW"},
		{"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":2,"op":"SCMP_CMP_EQ"}]},
		{"names":["kill"],"action":"SCMP_ACT_KILL_PROCESS"}]}`
	fromDoc := mustExplain(t, doc)
	p, err := readers.ParseOCI([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	prog, err := filter.Compile(p, filter.CompileOptions{Arches: []abi.Arch{"x86"}})
	if err != nil {
		t.Fatal(err)
	}
	fromBPF, err := Explain(filterBytes(prog))
	if err != nil {
		t.Fatal(err)
	}
	if fromDoc.DefaultAction.String() != "errno(ENOSYS)" {
		t.Errorf("default action %s", fromDoc.DefaultAction)
	}
	strip := func(r *Report) *Report {
		c := *r
		c.Kind, c.Notes = "", nil
		c.Conditional = slices.Clone(r.Conditional)
		for i := range c.Conditional {
			c.Conditional[i].Rules = nil
		}
		return &c
	}
	a, b := strip(fromDoc), strip(fromBPF)
	var ja, jb bytes.Buffer
	WriteJSON(&ja, a)
	WriteJSON(&jb, b)
	if ja.String() != jb.String() {
		t.Errorf("profile and compiled filter explain differently:\n%s\n%s", ja.String(), jb.String())
	}
	if len(a.Other) != 1 || a.Other[0].Name != "kill" || a.Other[0].Action.Name != "kill_process" {
		t.Errorf("other actions %+v", a.Other)
	}
}

func TestNotAProfile(t *testing.T) {
	for _, data := range []string{"hello\n", "{\"defaultAction\": ", `{"syscalls":[]}`, `[{"defaultAction":"SCMP_ACT_ALLOW"}]`, "\x00\x00\x00\x00\x00\x00\x00"} {
		_, err := Explain([]byte(data))
		if !errors.Is(err, ErrUnknownFormat) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: error %v, want one line wrapping ErrUnknownFormat", data, err)
		}
	}
	// 8 bytes, but no valid instruction.
	_, err := Explain(bytes.Repeat([]byte{0xff}, 8))
	if !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("garbage of 8 bytes: %v", err)
	}
}

// TestFileNotRegular: a FIFO or a device is refused at once with a
// one-line error naming it (reading would hang or never end).
func TestFileNotRegular(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{fifo, "/dev/zero"} {
		_, err := File(path)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "not a regular file") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want one line naming it, not a regular file", path, err)
		}
	}
}

func TestDockerDefault(t *testing.T) {
	n, err := dockerDefaultAllowed()
	if err != nil {
		t.Fatal(err)
	}
	// Docker's default allows most of the table but not all (it denies
	// mount, ptrace without CAP_SYS_PTRACE, kexec...).
	r := mustExplain(t, `{"defaultAction":"SCMP_ACT_ALLOW"}`)
	if n < 250 || n >= r.NativeCount {
		t.Errorf("dockerDefaultAllowed %d of %d native syscalls", n, r.NativeCount)
	}
	// Docker's own file: an allowlist that allows most syscalls still
	// has the default action errno.
	data, err := os.ReadFile(filepath.Join(mobyDir(t), "default.json"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := Explain(data)
	if err != nil {
		t.Fatal(err)
	}
	if d.DefaultAction.String() != "errno(EPERM)" || hasWarning(d, "default action") || d.AllowedCount < 250 {
		t.Errorf("Docker's default.json: default %s, %d allowed, warnings %q", d.DefaultAction, d.AllowedCount, d.Warnings)
	}
	if !slices.ContainsFunc(d.DangerousAllowed, func(x Dangerous) bool { return x.Name == "personality" && x.Conditional }) {
		t.Errorf("Docker's default.json: dangerous %+v, want personality (conditional)", d.DangerousAllowed)
	}
}

// mobyDir is the module directory of github.com/moby/profiles/seccomp.
func mobyDir(t *testing.T) string {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/moby/profiles/seccomp").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// TestDockerDefaultFileResolved: explain of Docker's own default.json
// evaluates its conditional entries as dockerd does for a container with
// the default capabilities on this machine: the same syscalls allowed as
// the profile dockerd hands runc (moby's GetDefaultProfile for that
// capability set), those the default capabilities and this architecture
// give (chroot by CAP_SYS_CHROOT, arch_prctl on amd64, ptrace on kernels
// from 4.8) in, those that need CAP_SYS_ADMIN or another architecture
// out; and its notes name each syscall once.
func TestDockerDefaultFileResolved(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(mobyDir(t), "default.json"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := Explain(data)
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := dockerseccomp.GetDefaultProfile(dockerSpec())
	if err != nil {
		t.Fatal(err)
	}
	ldata, err := json.Marshal(loaded)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Explain(ldata)
	if err != nil {
		t.Fatal(err)
	}
	if d.AllowedCount != d.DockerDefaultAllowed || d.AllowedCount != want.AllowedCount {
		t.Errorf("default.json: %d allowed, Docker's default profile %d, dockerd's for the default capabilities %d", d.AllowedCount, d.DockerDefaultAllowed, want.AllowedCount)
	}
	if !slices.Equal(d.Allowed, want.Allowed) {
		t.Errorf("allowed differ from dockerd's profile:\n%v\n%v", d.Allowed, want.Allowed)
	}
	allowed := func(name string) bool {
		return slices.Contains(d.Allowed, name) || slices.ContainsFunc(d.Conditional, func(c Conditional) bool { return c.Name == name })
	}
	in := []string{"chroot", "ptrace", "clone", "personality"}
	if runtime.GOARCH == "amd64" {
		in = append(in, "arch_prctl", "modify_ldt")
	}
	for _, name := range in {
		if !allowed(name) {
			t.Errorf("%s not allowed", name)
		}
	}
	for _, name := range []string{"mount", "sethostname", "setns", "bpf", "reboot", "init_module"} {
		if allowed(name) {
			t.Errorf("%s allowed (needs a capability Docker does not give by default)", name)
		}
	}
	if len(d.Notes) == 0 || !strings.Contains(d.Notes[0], "evaluated as dockerd does for a container with its default capabilities on "+runtime.GOARCH) {
		t.Errorf("notes %q", d.Notes)
	}
	for _, n := range d.Notes {
		list := n[strings.LastIndex(n, ": ")+2:]
		names := strings.Fields(list)
		if len(names) != len(slices.Compact(slices.Sorted(slices.Values(names)))) {
			t.Errorf("a note repeats names: %s", n)
		}
	}
	// The one OCI reader (explain of a profile without Docker's
	// conditions goes through it) names each left-out syscall once too.
	native, err := abi.Native()
	if err != nil {
		t.Fatal(err)
	}
	known, _, err := pruneUnknown(data, native)
	if err != nil {
		t.Fatal(err)
	}
	p, err := readers.ParseOCI(known)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Notes) < 2 {
		t.Errorf("ParseOCI notes %q, want the left-out and other-architecture ones", p.Notes)
	}
	for _, n := range p.Notes {
		list := n[strings.LastIndex(n, ": ")+2:]
		if names := strings.Fields(list); len(names) != len(slices.Compact(slices.Sorted(slices.Values(names)))) {
			t.Errorf("ParseOCI's note repeats names: %s", n)
		}
	}
}

// TestExplainK8s: the SeccompProfile YAML emit --format k8s writes is
// judged like the OCI profile emit writes from the same recording.
func TestExplainK8s(t *testing.T) {
	k8s, err := File("../emit/testdata/recording.k8s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	oci, err := File("../emit/testdata/recording.oci.json")
	if err != nil {
		t.Fatal(err)
	}
	if k8s.Kind != KindK8s {
		t.Errorf("kind %q, want %q", k8s.Kind, KindK8s)
	}
	if strings.Join(k8s.Allowed, " ") != strings.Join(oci.Allowed, " ") || k8s.AllowedCount != oci.AllowedCount {
		t.Errorf("k8s allows %v (%d), oci %v (%d)", k8s.Allowed, k8s.AllowedCount, oci.Allowed, oci.AllowedCount)
	}
	if _, err := Explain([]byte("kind: SeccompProfile\nspec:\n  defaultAction: SCMP_ACT_ERRNO\n  syscalls:\n  - action: SCMP_ACT_ERRNO\n    errnoRet: \"x\"\n    names: [read]\n")); err == nil || !strings.Contains(err.Error(), "errnoRet") {
		t.Errorf("bad errnoRet: %v", err)
	}
}
