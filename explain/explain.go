package explain

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	dockerseccomp "github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"sigs.k8s.io/yaml"

	"github.com/profgen/profgen/filter"
	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/internal/jsonerr"
	"github.com/profgen/profgen/internal/runc"
	"github.com/profgen/profgen/internal/seccomp"
	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/readers"
)

// Input kinds of Report.Kind.
const (
	KindOCI = "oci"
	KindBPF = "bpf"
	// KindK8s is a Security Profiles Operator SeccompProfile (YAML), as
	// emit --format k8s writes it.
	KindK8s = "k8s"
)

// Report is what Explain finds. Its JSON form is what `profgen explain
// --json` prints.
type Report struct {
	File string `json:"file"`
	// Landlock is the report of a Landlock ruleset (Kind KindLandlock),
	// whose other fields are empty.
	Landlock *LandlockReport `json:"landlock,omitempty"`
	// Recording is the report of a recording (Kind KindRecording), whose
	// other fields are empty.
	Recording *RecordingReport `json:"-"`
	// Kind is KindOCI (a JSON profile) or KindBPF (a raw filter).
	Kind string `json:"kind"`
	// Instructions is the length of the (compiled) filter.
	Instructions int `json:"instructions"`
	// DefaultAction is what the filter does with native syscall numbers
	// it does not name (see analysis.defaultRet).
	DefaultAction seccomp.Action `json:"defaultAction"`
	// Architectures are the ABIs (libseccomp names) through which some
	// syscall is allowed, native first.
	Architectures []string `json:"architectures"`
	// Allowed are the native syscalls allowed (or logged) whatever the
	// arguments, sorted.
	Allowed []string `json:"allowed"`
	// Conditional are the native syscalls whose verdict depends on their
	// arguments.
	Conditional []Conditional `json:"conditional"`
	// Other are native syscalls denied with another action than the
	// default (an ENOSYS stub, a kill among errno denials).
	Other []Other `json:"otherActions,omitempty"`
	// AllowedCount is len(Allowed) + len(Conditional): the native
	// syscalls a process can make in some case.
	AllowedCount int `json:"allowedCount"`
	// NativeCount is the number of native syscalls libseccomp knows.
	NativeCount int `json:"nativeCount"`
	// DockerDefaultAllowed is AllowedCount of Docker's default profile
	// (github.com/moby/profiles/seccomp) for a container with Docker's
	// default capabilities on this machine; 0 for a profile judged for
	// another architecture (JudgedFor).
	DockerDefaultAllowed int `json:"dockerDefaultAllowed"`
	// JudgedFor is the architecture a profile written for another
	// machine was judged for (its own); empty for this machine's.
	JudgedFor string `json:"judgedFor,omitempty"`
	// DangerousAllowed are the well-known dangerous syscalls allowed.
	DangerousAllowed []Dangerous `json:"dangerousAllowed"`
	// Warnings are weaknesses of the profile, one sentence each.
	Warnings []string `json:"warnings"`
	// Reachable, when asked for (MarkReachable), says which allowed
	// syscalls a program's code can make.
	Reachable *Reachability `json:"reachable,omitempty"`
	// Notes say how the profile was read (entries left out, as runc
	// would).
	Notes []string `json:"notes,omitempty"`
}

// Conditional is a syscall allowed or denied depending on its arguments.
type Conditional struct {
	Name string `json:"name"`
	// Args are the argument indexes the filter reads with every argument
	// zero.
	Args []int `json:"args"`
	// Rules are the profile's rules (OCI input only), in profgen's
	// notation; they OR.
	Rules []string `json:"rules,omitempty"`
	// Text is the rules as a person reads them (learn.RulesText: named
	// values, hex where no name exists), for the text output; the JSON
	// keeps Rules' numbers.
	Text string `json:"-"`
}

// Other is a syscall denied with an action other than the default.
type Other struct {
	Name   string         `json:"name"`
	Action seccomp.Action `json:"action"`
}

// ErrUnknownFormat is returned (wrapped) for a file that is neither a JSON
// profile nor a raw BPF filter.
var ErrUnknownFormat = errors.New("neither a JSON seccomp profile nor a raw BPF filter")

// File reads and explains the profile, filter or recording in path (a
// regular file, or "-" for standard input: see fileio.ReadFile), a
// recording judged by learn's defaults (FileWith).
func File(path string) (*Report, error) {
	return FileWith(path, Options{})
}

// Explain explains data, an OCI/Docker JSON profile or a raw BPF filter
// (an array of struct sock_filter in native byte order, as the kernel
// holds it and `profgen dump` writes it), told apart by their content.
func Explain(data []byte) (*Report, error) {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		if !json.Valid(data) {
			var v any
			return nil, fmt.Errorf("%w: invalid JSON: %s", ErrUnknownFormat, jsonerr.Describe(data, json.Unmarshal(data, &v)))
		}
		if trimmed[0] == '[' {
			return nil, fmt.Errorf("%w: a JSON array, not a profile object", ErrUnknownFormat)
		}
		if isLandlockConfig(data) {
			return explainLandlock(data)
		}
		return explainOCI(data, KindOCI)
	}
	if isGoSource(data) {
		return explainGo(data)
	}
	if doc, ok, err := fromK8s(data); ok {
		if err != nil {
			return nil, err
		}
		return explainOCI(doc, KindK8s)
	}
	if len(data) == 0 || len(data)%8 != 0 {
		return nil, fmt.Errorf("%w (%d bytes, not JSON and not a multiple of 8)", ErrUnknownFormat, len(data))
	}
	prog, err := seccomp.DecodeFilter(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnknownFormat, err)
	}
	native, err := abi.Native()
	if err != nil {
		return nil, err
	}
	r, err := explainProgram(prog, native)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnknownFormat, err)
	}
	r.Kind = KindBPF
	return r, nil
}

// ociDoc is what explain reads of a profile besides what readers.ParseOCI
// reads: Docker's archMap and the raw entries.
type ociDoc struct {
	specs.LinuxSeccomp
	ArchMap []struct {
		Arch      specs.Arch   `json:"architecture"`
		SubArches []specs.Arch `json:"subArchitectures"`
	} `json:"archMap"`
}

// explainOCI explains an OCI profile, read from a file of kind (KindOCI,
// KindK8s).
func explainOCI(data []byte, kind string) (*Report, error) {
	var doc ociDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: %s", readers.ErrProfile, jsonerr.Describe(data, err))
	}
	if doc.DefaultAction == "" {
		return nil, fmt.Errorf("%w: no defaultAction (not a seccomp profile)", ErrUnknownFormat)
	}
	native, err := abi.Native()
	if err != nil {
		return nil, err
	}
	// A profile written for another machine is judged for its own
	// architecture, and says so.
	target, err := profileArch(doc.Architectures, native)
	if err != nil {
		return nil, err
	}
	var notes []string
	// Docker's conditional entries: what dockerd loads for a container
	// with its default capabilities, on this machine.
	resolved, note, err := resolveDocker(data)
	if err != nil {
		return nil, err
	}
	if note != "" {
		data, notes = resolved, append(notes, note)
		doc = ociDoc{}
		if err := json.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("%w: %s", readers.ErrProfile, jsonerr.Describe(data, err))
		}
	}
	var warnings []string
	// Names this libseccomp does not know: runc drops them with a
	// warning, so explain does too, before the one OCI reader sees them.
	cleaned, unknown, err := pruneUnknown(data, target)
	if err != nil {
		return nil, err
	}
	if len(unknown) > 0 {
		warnings = append(warnings, fmt.Sprintf("names unknown to this libseccomp (runc drops them with a warning, so they are not allowed here): %s", strings.Join(unknown, " ")))
	}
	p, err := readers.ParseOCIArch(cleaned, target)
	if err != nil {
		return nil, err
	}
	// The architectures runc adds to the filter: the document's, or for
	// Docker's archMap the native entry and its sub-architectures.
	archNames := doc.Architectures
	for _, m := range doc.ArchMap {
		if m.Arch == specs.Arch(native.OCI()) {
			archNames = append(append(archNames, m.Arch), m.SubArches...)
		}
	}
	var extra []abi.Arch
	for _, n := range archNames {
		a, err := abi.FromOCI(string(n))
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("architecture %s unknown to this libseccomp", n))
			continue
		}
		if a != target && !slices.Contains(extra, a) {
			extra = append(extra, a)
		}
	}
	prog, err := filter.Compile(p, filter.CompileOptions{Arches: extra})
	if err != nil {
		return nil, err
	}
	r, err := explainProgram(prog, target)
	if err != nil {
		return nil, err
	}
	r.Kind = kind
	if target != native {
		r.JudgedFor = string(target)
		notes = append(notes, fmt.Sprintf("the profile is for %s (architectures %v), not this machine's %s: judged for %s, its syscalls and compat ABIs", target.OCI(), doc.Architectures, native.OCI(), target))
	}
	r.Notes = append(notes, p.Notes...)
	r.Warnings = append(warnings, r.Warnings...)
	for i, c := range r.Conditional {
		if s := p.Lookup(c.Name); s != nil {
			for _, rule := range s.Rules {
				r.Conditional[i].Rules = append(r.Conditional[i].Rules, rule.String())
			}
			if len(s.Rules) > 0 {
				r.Conditional[i].Text = learn.RulesText(p.Arch, c.Name, s.Rules)
			}
		}
	}
	// runc turns two conditions on one argument of an entry into rules
	// of their own, which OR.
	for _, e := range doc.Syscalls {
		idx := map[uint]int{}
		for _, a := range e.Args {
			idx[a.Index]++
		}
		for i, n := range idx {
			if n > 1 {
				r.Warnings = append(r.Warnings, fmt.Sprintf("%s: %d conditions on argument %d, which runc turns into alternatives (OR), not AND", strings.Join(e.Names, ","), n, i))
			}
		}
	}
	return r, nil
}

// fromK8s reports whether data is a SeccompProfile of the Security
// Profiles Operator (YAML with "kind: SeccompProfile") and returns its spec
// as an OCI profile: the same fields, but errnoRet, a string there, made a
// number.
func fromK8s(data []byte) ([]byte, bool, error) {
	if !bytes.Contains(data, []byte("kind: SeccompProfile")) {
		return nil, false, nil
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, true, fmt.Errorf("%w: SeccompProfile YAML: %v", readers.ErrProfile, err)
	}
	var doc struct {
		Kind string         `json:"kind"`
		Spec map[string]any `json:"spec"`
	}
	if err := json.Unmarshal(js, &doc); err != nil || doc.Kind != "SeccompProfile" {
		return nil, false, nil
	}
	if doc.Spec == nil {
		return nil, true, fmt.Errorf("%w: SeccompProfile without a spec", readers.ErrProfile)
	}
	entries, _ := doc.Spec["syscalls"].([]any)
	for i, e := range entries {
		m, _ := e.(map[string]any)
		if s, ok := m["errnoRet"].(string); ok {
			n, err := strconv.ParseUint(s, 10, 32)
			if err != nil {
				return nil, true, fmt.Errorf("%w: spec.syscalls[%d].errnoRet %q: not a number", readers.ErrProfile, i, s)
			}
			m["errnoRet"] = n
		}
	}
	out, err := json.Marshal(doc.Spec)
	return out, true, err
}

// pruneUnknown returns the profile data without the syscall names
// libseccomp does not know on arch (and without entries left with no
// name), and those names.
func pruneUnknown(data []byte, arch abi.Arch) ([]byte, []string, error) {
	var generic map[string]any
	if err := json.Unmarshal(data, &generic); err != nil {
		return nil, nil, fmt.Errorf("%w: %s", readers.ErrProfile, jsonerr.Describe(data, err))
	}
	entries, ok := generic["syscalls"].([]any)
	if !ok {
		return data, nil, nil
	}
	var unknown []string
	kept := entries[:0]
	for _, e := range entries {
		m, ok := e.(map[string]any)
		if !ok {
			kept = append(kept, e)
			continue
		}
		names, _ := m["names"].([]any)
		var keep []any
		for _, n := range names {
			s, _ := n.(string)
			if _, err := abi.SyscallNumber(arch, s); errors.Is(err, abi.ErrUnknownSyscall) {
				unknown = append(unknown, s)
				continue
			}
			keep = append(keep, n)
		}
		if len(names) > 0 && len(keep) == 0 {
			continue
		}
		if len(names) > 0 {
			m["names"] = keep
		}
		kept = append(kept, m)
	}
	if len(unknown) == 0 {
		return data, nil, nil
	}
	generic["syscalls"] = kept
	out, err := json.Marshal(generic)
	return out, unknown, err
}

// explainProgram analyses a compiled or raw filter.
func explainProgram(prog []unix.SockFilter, arch abi.Arch) (*Report, error) {
	a, err := analyze(prog, arch)
	if err != nil {
		return nil, err
	}
	r := report(a)
	r.Instructions = len(prog)
	if native, err := abi.Native(); err == nil && native == arch {
		// Docker's default is resolved for this machine only.
		docker, err := dockerDefaultAllowed()
		if err != nil {
			return nil, err
		}
		r.DockerDefaultAllowed = docker
	}
	if err := r.judge(a); err != nil {
		return nil, err
	}
	return r, nil
}

// report fills in the fields that follow from the verdicts alone.
func report(a *analysis) *Report {
	def := a.defaultRet()
	nat := a.native()
	r := &Report{
		DefaultAction: seccomp.DecodeRet(def),
		NativeCount:   len(nat.syscalls),
		Allowed:       []string{},
		Conditional:   []Conditional{},
	}
	for _, ar := range a.arches {
		if ar.admitted() {
			r.Architectures = append(r.Architectures, string(ar.arch))
		}
	}
	for i, s := range nat.syscalls {
		v := nat.verdicts[i]
		act := seccomp.DecodeRet(v.ret)
		switch {
		case v.conditional():
			args, _ := v.args()
			r.Conditional = append(r.Conditional, Conditional{Name: s.name, Args: args})
		case act.Allows():
			r.Allowed = append(r.Allowed, s.name)
		case v.ret != def:
			r.Other = append(r.Other, Other{Name: s.name, Action: act})
		}
	}
	sort.Strings(r.Allowed)
	sort.Slice(r.Conditional, func(i, j int) bool { return r.Conditional[i].Name < r.Conditional[j].Name })
	sort.Slice(r.Other, func(i, j int) bool { return r.Other[i].Name < r.Other[j].Name })
	r.AllowedCount = len(r.Allowed) + len(r.Conditional)
	return r
}

// cloneNamespaceFlags are the clone flags that create namespaces.
var cloneNamespaceFlags = []struct {
	name string
	flag uint64
}{
	{"CLONE_NEWUSER", unix.CLONE_NEWUSER},
	{"CLONE_NEWNS", unix.CLONE_NEWNS},
	{"CLONE_NEWPID", unix.CLONE_NEWPID},
	{"CLONE_NEWNET", unix.CLONE_NEWNET},
	{"CLONE_NEWUTS", unix.CLONE_NEWUTS},
	{"CLONE_NEWIPC", unix.CLONE_NEWIPC},
	{"CLONE_NEWCGROUP", unix.CLONE_NEWCGROUP},
	{"CLONE_NEWTIME", unix.CLONE_NEWTIME},
}

// judge fills in DangerousAllowed and Warnings.
func (r *Report) judge(a *analysis) error {
	nat := a.native()
	r.DangerousAllowed = []Dangerous{}
	for _, d := range dangerous {
		v, ok := nat.lookup(d.Name)
		if !ok {
			continue
		}
		if v.conditional() || seccomp.DecodeRet(v.ret).Allows() {
			d.Conditional = v.conditional()
			r.DangerousAllowed = append(r.DangerousAllowed, d)
		}
	}
	if v, ok := nat.lookup("clone"); ok && (v.conditional() || seccomp.DecodeRet(v.ret).Allows()) {
		var flags []string
		for _, f := range cloneNamespaceFlags {
			// clone's flags are argument 0 on every architecture
			// profgen runs on (x86_64, arm64).
			ok, err := a.allowsArgs("clone", [6]uint64{f.flag | uint64(unix.SIGCHLD)})
			if err != nil {
				return err
			}
			if ok {
				flags = append(flags, f.name)
			}
		}
		if len(flags) > 0 {
			r.DangerousAllowed = append(r.DangerousAllowed, Dangerous{
				Name: "clone", Conditional: v.conditional(),
				Why: cloneWhy + ": allowed with " + strings.Join(flags, ", "),
			})
		}
	}
	sort.Slice(r.DangerousAllowed, func(i, j int) bool { return r.DangerousAllowed[i].Name < r.DangerousAllowed[j].Name })

	r.Warnings = []string{}
	if r.DefaultAction.Allows() {
		r.Warnings = append(r.Warnings, fmt.Sprintf("default action %s: every syscall not named is allowed, including those of newer kernels", r.DefaultAction))
	}
	anyAllowed := 0
	for _, v := range a.anyArch.verdicts {
		if v.conditional() || seccomp.DecodeRet(v.ret).Allows() {
			anyAllowed++
		}
	}
	if anyAllowed > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("no architecture check: %d syscall numbers are allowed whatever the ABI, so a call through another ABI (i386, x32) with the same number is a different syscall let through", anyAllowed))
	}
	for _, ar := range a.arches[1:] {
		if !ar.admitted() {
			continue
		}
		n := 0
		for _, v := range ar.verdicts {
			if v.conditional() || seccomp.DecodeRet(v.ret).Allows() {
				n++
			}
		}
		label := string(ar.arch)
		if ar.arch == "x86" {
			label = "i386 (x86)"
		}
		r.Warnings = append(r.Warnings, fmt.Sprintf("%s syscalls admitted (%d allowed): a second ABI with its own numbers and weaker-checked arguments; allow only the native one unless 32-bit programs run", label, n))
	}
	execve, _ := nat.lookup("execve")
	execveat, _ := nat.lookup("execveat")
	execveOK := execve.conditional() || seccomp.DecodeRet(execve.ret).Allows()
	execveatOK := execveat.conditional() || seccomp.DecodeRet(execveat.ret).Allows()
	switch {
	case execveOK && !execveatOK && !execveat.conditional() && execveat.ret == a.defaultRet():
		r.Warnings = append(r.Warnings, "execve is allowed but execveat is not considered (it gets the default action): a program that runs others through execveat (fexecve) fails, and a rule meant for execve does not cover it")
	case !execveOK && execveatOK:
		r.Warnings = append(r.Warnings, "execve is denied but execveat is allowed: execveat runs programs just the same")
	case execve.conditional() && !execveat.conditional() && execveatOK:
		r.Warnings = append(r.Warnings, "execve has argument rules but execveat is allowed without any: the rules are bypassed through execveat")
	}
	for _, ar := range a.arches {
		if ar.arch != a.native().arch {
			// i386, arm: 32-bit arguments. x32: libseccomp compares
			// its arguments on 32 bits by design.
			continue
		}
		for i, v := range ar.verdicts {
			if lo := v.lowOnly(); len(lo) > 0 {
				r.Warnings = append(r.Warnings, fmt.Sprintf("%s on %s: argument %s compared on its low 32 bits only: a 64-bit value with high bits set passes (CVE-2019-9893)", ar.syscalls[i].name, ar.arch, joinInts(lo)))
			}
		}
	}
	return nil
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ",")
}

var dockerCount struct {
	once sync.Once
	n    int
	err  error
}

// dockerDefaultAllowed is AllowedCount of Docker's default profile,
// analysed like any other.
func dockerDefaultAllowed() (int, error) {
	dockerCount.once.Do(func() { dockerCount.n, dockerCount.err = dockerAllowed() })
	return dockerCount.n, dockerCount.err
}

// dockerSpec is the part of a container's spec dockerd's seccomp setup
// reads: the bounding capabilities, Docker's default set
// (runc.DefaultCapabilities); entries of its profile that need others are
// left out, as for such a container.
func dockerSpec() *specs.Spec {
	return &specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{Bounding: slices.Clone(runc.DefaultCapabilities)}}}
}

// resolveDocker evaluates the conditional entries of a profile in
// Docker's format (includes and excludes by architecture, capability and
// minimum kernel) as dockerd does when it loads the profile for a
// container with Docker's default capabilities on this machine's
// architecture and kernel (moby/profiles/seccomp.LoadProfile, dockerd's
// own code), and returns the profile dockerd hands the runtime and a note
// that says so. A profile without conditional entries is returned as is,
// with no note.
func resolveDocker(data []byte) ([]byte, string, error) {
	var docker dockerseccomp.Seccomp
	if err := json.Unmarshal(data, &docker); err != nil {
		return nil, "", fmt.Errorf("%w: %s", readers.ErrProfile, jsonerr.Describe(data, err))
	}
	var conditional int
	var condNames []string
	for _, e := range docker.Syscalls {
		if e == nil || (e.Includes == nil && e.Excludes == nil) {
			continue
		}
		if e.Includes != nil && e.Excludes != nil && isEmptyFilter(e.Includes) && isEmptyFilter(e.Excludes) {
			continue
		}
		conditional++
		condNames = append(condNames, e.Names...)
		if e.Name != "" {
			condNames = append(condNames, e.Name)
		}
	}
	if conditional == 0 {
		return data, "", nil
	}
	out, err := dockerseccomp.LoadProfile(string(data), dockerSpec())
	if err != nil {
		return nil, "", fmt.Errorf("%w: Docker's conditional entries: %v", readers.ErrProfile, err)
	}
	kept := map[string]bool{}
	for _, e := range out.Syscalls {
		for _, n := range e.Names {
			kept[n] = true
		}
	}
	var left []string
	for _, n := range condNames {
		if !kept[n] {
			left = append(left, n)
		}
	}
	left = slices.Compact(slices.Sorted(slices.Values(left)))
	resolved, err := json.Marshal(out)
	if err != nil {
		return nil, "", err
	}
	kernel := "this kernel"
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		kernel = "Linux " + unix.ByteSliceToString(u.Release[:])
	}
	note := fmt.Sprintf("Docker's %d conditional entries (includes/excludes by architecture, capability, kernel) evaluated as dockerd does for a container with its default capabilities on %s, %s", conditional, runtime.GOARCH, kernel)
	if len(left) > 0 {
		note += fmt.Sprintf("; %d syscalls they name are not allowed then: %s", len(left), strings.Join(left, " "))
	}
	return resolved, note, nil
}

// isEmptyFilter reports whether f sets no condition.
func isEmptyFilter(f *dockerseccomp.Filter) bool {
	return len(f.Caps) == 0 && len(f.Arches) == 0 && f.MinKernel == nil
}

// DockerDefault is Docker's default seccomp profile as dockerd hands it
// to the runtime for a container with Docker's default capabilities on this
// machine's architecture and kernel (its conditional entries resolved by
// moby/profiles/seccomp, dockerd's own code), as an OCI profile, without the
// names this libseccomp does not know (runc drops them), which it returns.
func DockerDefault() ([]byte, []string, error) {
	doc, err := dockerseccomp.GetDefaultProfile(dockerSpec())
	if err != nil {
		return nil, nil, fmt.Errorf("docker's default profile: %w", err)
	}
	data, err := json.Marshal(doc)
	if err != nil {
		return nil, nil, fmt.Errorf("docker's default profile: %w", err)
	}
	native, err := abi.Native()
	if err != nil {
		return nil, nil, err
	}
	data, unknown, err := pruneUnknown(data, native)
	if err != nil {
		return nil, nil, fmt.Errorf("docker's default profile: %w", err)
	}
	return data, unknown, nil
}

func dockerAllowed() (int, error) {
	data, _, err := DockerDefault()
	if err != nil {
		return 0, err
	}
	p, err := readers.ParseOCI(data)
	if err != nil {
		return 0, fmt.Errorf("docker's default profile: %w", err)
	}
	prog, err := filter.Compile(p, filter.CompileOptions{})
	if err != nil {
		return 0, fmt.Errorf("docker's default profile: %w", err)
	}
	a, err := analyze(prog, p.Arch)
	if err != nil {
		return 0, fmt.Errorf("docker's default profile: %w", err)
	}
	return report(a).AllowedCount, nil
}

// profileArch is the architecture explain judges a profile listing
// architectures for: the native one when it is listed (or none is), else
// the first listed one libseccomp can compile a filter for.
func profileArch(listed []specs.Arch, native abi.Arch) (abi.Arch, error) {
	if len(listed) == 0 || slices.Contains(listed, specs.Arch(native.OCI())) {
		return native, nil
	}
	for _, n := range listed {
		if a, err := abi.FromOCI(string(n)); err == nil {
			if _, err := a.ScmpArch(); err == nil {
				return a, nil
			}
		}
	}
	return "", fmt.Errorf("%w: architectures %v: none is known to this libseccomp", readers.ErrProfile, listed)
}
