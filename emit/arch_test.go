package emit_test

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"sigs.k8s.io/yaml"

	"github.com/profgen/profgen/emit"
	"github.com/profgen/profgen/filter"
	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/internal/seccomp"
	"github.com/profgen/profgen/internal/testenv"
	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/recording"
)

// archRecording is an x86_64 recording of legacy calls (open, stat,
// epoll_wait, arch_prctl) and open flags that aarch64 numbers otherwise.
var archRecording = filepath.Join("..", "learn", "testdata", "arch-x86_64.json")

// forArches learns the arch recording (runtime runc) and writes it for
// arches with --arch-fill, as emit --arch does.
func forArches(t *testing.T, arches ...abi.Arch) (*learn.Profile, emit.Options) {
	t.Helper()
	rec, err := recording.ReadFile(archRecording)
	if err != nil {
		t.Fatal(err)
	}
	p, err := learn.FromRecording(rec, learn.Options{Runtime: learn.LoaderRunc})
	if err != nil {
		t.Fatal(err)
	}
	q, warnings, err := learn.ForArches(p, arches, learn.ArchOptions{Fill: true})
	if err != nil {
		t.Fatal(err)
	}
	opts := testOpts
	opts.Arches, opts.ArchNotes = arches[1:], warnings
	return q, opts
}

// TestArchGolden: the OCI output for aarch64 and for x86_64 and aarch64
// together, from an x86_64 recording.
func TestArchGolden(t *testing.T) {
	for _, tc := range []struct {
		golden string
		arches []abi.Arch
		want   []specs.Arch
	}{
		{"arch-aarch64.oci.json", []abi.Arch{"arm64"}, []specs.Arch{specs.ArchAARCH64}},
		{"arch-x86_64-aarch64.oci.json", []abi.Arch{"amd64", "arm64"}, []specs.Arch{specs.ArchX86_64, specs.ArchAARCH64}},
	} {
		p, opts := forArches(t, tc.arches...)
		out := write(t, "oci", p, opts)
		testenv.Golden(t, tc.golden, out, *update)
		var doc specs.LinuxSeccomp
		var notes struct {
			Notes []string `json:"profgenArchNotes"`
		}
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(out, &notes); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(doc.Architectures, tc.want) {
			t.Errorf("%s: architectures %v, want %v", tc.golden, doc.Architectures, tc.want)
		}
		if !slices.ContainsFunc(notes.Notes, func(n string) bool { return strings.Contains(n, "aarch64 has no open") }) {
			t.Errorf("%s: %s does not say that open was replaced: %q", tc.golden, emit.ArchNotesField, notes.Notes)
		}
		names := map[string]bool{}
		for _, e := range doc.Syscalls {
			for _, n := range e.Names {
				names[n] = true
			}
		}
		// open stays for x86_64 only; its aarch64 replacement is there.
		if names["open"] != slices.Contains(tc.arches, "amd64") || !names["openat"] || !names["epoll_pwait"] {
			t.Errorf("%s: open %v, openat %v, epoll_pwait %v", tc.golden, names["open"], names["openat"], names["epoll_pwait"])
		}
	}
}

// TestArchFormats: k8s lists the architectures as oci does; the formats
// that hold one architecture's filter refuse several; the profile for
// aarch64 alone compiles into an aarch64 filter for bpf.
func TestArchFormats(t *testing.T) {
	p, opts := forArches(t, "amd64", "arm64")
	var k struct {
		Spec struct {
			Architectures []specs.Arch `json:"architectures"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(write(t, "k8s", p, opts), &k); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(k.Spec.Architectures, []specs.Arch{specs.ArchX86_64, specs.ArchAARCH64}) {
		t.Errorf("k8s architectures %v", k.Spec.Architectures)
	}
	for _, f := range emit.Formats {
		err := f.Emit(&bytes.Buffer{}, p, opts)
		if f.MultiArch != (err == nil) {
			t.Errorf("format %s with two architectures: %v (multi-arch %v)", f.Name, err, f.MultiArch)
		}
		if err != nil && !strings.Contains(err.Error(), "one architecture") {
			t.Errorf("format %s: %v", f.Name, err)
		}
	}
	arm, opts := forArches(t, "arm64")
	prog, err := seccomp.DecodeFilter(write(t, "bpf", arm, opts))
	if err != nil {
		t.Fatal(err)
	}
	vm, err := filter.NewVM(prog)
	if err != nil {
		t.Fatal(err)
	}
	nr, err := abi.SyscallNumber("arm64", "epoll_pwait")
	if err != nil {
		t.Fatal(err)
	}
	audit, _ := abi.Arch("arm64").Audit()
	if got, err := vm.Verdict(filter.SeccompData{Nr: int32(nr), Arch: audit}); err != nil || got != learn.Allow {
		t.Errorf("bpf for aarch64: epoll_pwait %s, %v", got, err)
	}
}

// TestRuncBothArches: runc loads the x86_64,aarch64 document into one
// filter that gives, on each architecture with its own numbers, the
// model's verdict for every recorded event made there (names replaced,
// values translated) and for calls outside the profile; names aarch64
// does not have (open) are skipped there, as runc's libseccomp does.
func TestRuncBothArches(t *testing.T) {
	p, opts := forArches(t, "amd64", "arm64")
	if err := p.Add(learn.Syscall{Name: "pause", Action: learn.Allow, Origin: learn.OriginRecorded}); err != nil {
		t.Fatal(err)
	}
	doc, err := emit.OCI(p, emit.OCIOptions{Arches: opts.Arches})
	if err != nil {
		t.Fatal(err)
	}
	prog := runcFilterProgram(t, doc)
	vm, err := filter.NewVM(prog)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := recording.ReadFile(archRecording)
	if err != nil {
		t.Fatal(err)
	}
	type call struct {
		name string
		args [6]uint64
	}
	var calls []call
	for _, s := range rec.Syscalls {
		// Every recorded event, and the call with no argument set.
		for _, ev := range append(s.Events(), recording.Event{}) {
			calls = append(calls, call{name: s.Name, args: ev.Args})
		}
	}
	for _, name := range []string{"ptrace", "mount", "bpf", "kexec_load", "io_uring_setup", "clone3"} {
		calls = append(calls, call{name: name})
	}
	checked, denied := 0, 0
	for _, arch := range []abi.Arch{"amd64", "arm64"} {
		audit, err := arch.Audit()
		if err != nil {
			t.Fatal(err)
		}
		maxNr := 0
		for _, s := range p.Syscalls {
			if nr, err := abi.SyscallNumber(arch, s.Name); err == nil {
				maxNr = max(maxNr, nr)
			}
		}
		for _, c := range calls {
			name, args, ok, err := learn.TranslateCall("amd64", arch, c.name, c.args, true)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				continue // arch_prctl on aarch64
			}
			nr, err := abi.SyscallNumber(arch, name)
			if err != nil {
				t.Fatal(err)
			}
			want := p.Verdict(name, args)
			if p.Lookup(name) == nil && nr > maxNr {
				want = learn.ErrnoENOSYS // runc's stub
			}
			got, err := vm.Verdict(filter.SeccompData{Nr: int32(nr), Arch: audit, Args: args})
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("runc's filter, %s: %s%x: %s, want %s", arch, name, args, got, want)
			}
			checked++
			if got != learn.Allow {
				denied++
			}
		}
	}
	if denied == 0 || denied == checked {
		t.Fatalf("%d of %d calls denied: the calls do not tell allow from deny", denied, checked)
	}
	// Compat ABIs are not listed: runc's filter kills an i386 call.
	i386Getpid, err := abi.SyscallNumber("x86", "getpid")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := vm.Run(filter.SeccompData{Nr: int32(i386Getpid), Arch: unix.AUDIT_ARCH_I386}); err != nil || got&unix.SECCOMP_RET_ACTION_FULL != unix.SECCOMP_RET_KILL_THREAD && got&unix.SECCOMP_RET_ACTION_FULL != unix.SECCOMP_RET_KILL_PROCESS {
		t.Errorf("runc's filter, i386 getpid: %#x, %v; want a kill", got, err)
	}
	t.Logf("%d calls on two architectures, %d denied, in runc's filter of %d instructions", checked, denied, len(prog))
}

// TestArchGoCrossBuild: the go output for aarch64 embeds the aarch64
// filter and builds with GOARCH=arm64 CGO_ENABLED=0 into an aarch64
// binary (its Install refuses any other GOARCH).
func TestArchGoCrossBuild(t *testing.T) {
	arm, opts := forArches(t, "arm64")
	src := write(t, "go", arm, opts)
	if !bytes.Contains(src, []byte(`runtime.GOARCH != "arm64"`)) {
		t.Fatalf("the go output does not check for arm64:\n%s", src)
	}
	// The embedded filter tests seccomp_data.arch against
	// AUDIT_ARCH_AARCH64.
	if !bytes.Contains(src, []byte(fmt.Sprintf("K: %#x}", unix.AUDIT_ARCH_AARCH64))) {
		t.Errorf("the go output's filter does not check AUDIT_ARCH_AARCH64:\n%s", src)
	}
	main := "package main\n\nimport sp \"IMPORT\"\n\nfunc main() {\n\tif err := sp.Install(); err != nil {\n\t\tpanic(err)\n\t}\n}\n"
	bin := buildGo(t, src, main, "GOARCH=arm64", "GOOS=linux")
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Machine != elf.EM_AARCH64 {
		t.Errorf("built for %v", f.Machine)
	}
}
