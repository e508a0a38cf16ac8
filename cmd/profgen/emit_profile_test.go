package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/profgen/profgen/readers"
)

// profileInput is an OCI profile as another tool writes it: four
// syscalls, none of profgen's baseline or of runc's own calls.
const profileInput = `{
  "defaultAction": "SCMP_ACT_ERRNO",
  "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"],
  "syscalls": [
    {"names": ["read", "write", "exit_group"], "action": "SCMP_ACT_ALLOW"},
    {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}]}
  ]
}`

// TestEmitFromProfile: emit converts an OCI profile to every format, as
// is: its syscalls and nothing of the baseline or of a runtime.
func TestEmitFromProfile(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "seccomp.json")
	if err := os.WriteFile(in, []byte(profileInput), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"oci", "k8s", "systemd", "bpf", "c", "go", "go-libseccomp", "text"} {
		out := filepath.Join(dir, "out."+f)
		r := runProfgen(t, dir, "emit", "--format", f, "-o", out, in)
		if r.code != 0 {
			t.Fatalf("emit --format %s of a profile: exit %d: %s", f, r.code, r.stderr)
		}
		data, err := os.ReadFile(out)
		if err != nil || len(data) == 0 {
			t.Fatalf("emit --format %s: no output (%v)", f, err)
		}
		if f == "bpf" {
			continue
		}
		s := string(data)
		if !strings.Contains(s, "exit_group") || !strings.Contains(s, "socket") {
			t.Errorf("--format %s: the profile's syscalls are missing:\n%s", f, s)
		}
		// rt_sigreturn is profgen's baseline, capget runc's own (a
		// comment may name them: systemd's says what systemd allows).
		var code []string
		for _, l := range strings.Split(s, "\n") {
			if l := strings.TrimSpace(l); !strings.HasPrefix(l, "#") && !strings.HasPrefix(l, "//") {
				code = append(code, l)
			}
		}
		for _, added := range []string{"rt_sigreturn", "capget"} {
			if strings.Contains(strings.Join(code, "\n"), added) {
				t.Errorf("--format %s: %s added to a converted profile:\n%s", f, added, s)
			}
		}
	}
	p, err := readers.ReadOCIFile(filepath.Join(dir, "out.oci"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range p.Syscalls {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, " "); got != "exit_group read socket write" {
		t.Errorf("oci round trip allows %q, want the input's four", got)
	}
	if s := p.Lookup("socket"); s == nil || len(s.Rules) != 1 {
		t.Errorf("oci round trip lost socket's rule: %+v", s)
	}
}

// TestEmitFromProfileRefused: a file that is neither kind, a mix of kinds
// and the flags that say how to learn each give one line naming the file,
// and no output.
func TestEmitFromProfileRefused(t *testing.T) {
	dir := t.TempDir()
	prof := filepath.Join(dir, "seccomp.json")
	if err := os.WriteFile(prof, []byte(profileInput), 0o644); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.json")
	if err := os.WriteFile(other, []byte(`{"kind": "Pod"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	rec := writeRecording(t, dir, "rec.json", nil)
	out := filepath.Join(dir, "out.json")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{other}, other + " is neither a profgen recording"},
		{[]string{rec, prof}, rec + " is a recording and " + prof + " an OCI profile"},
		{[]string{"--runtime", "runc", prof}, "--runtime applies to recordings: " + prof + " is an OCI profile"},
		{[]string{"--args", "none", prof}, "--args applies to recordings"},
	} {
		r := runProfgen(t, dir, append([]string{"emit", "-o", out}, c.args...)...)
		if r.code == 0 || !strings.Contains(r.stderr, c.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
			t.Errorf("emit %v: exit %d, stderr %q; want one line with %q", c.args, r.code, r.stderr, c.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("emit %v wrote %s", c.args, out)
		}
	}
}

// TestEmitDockerDefault: emit --docker-default writes Docker's default
// profile, which diff compares a learned profile with, and refuses inputs.
func TestEmitDockerDefault(t *testing.T) {
	dir := t.TempDir()
	dd := filepath.Join(dir, "docker-default.json")
	if r := runProfgen(t, dir, "emit", "--docker-default", "-o", dd); r.code != 0 {
		t.Fatalf("emit --docker-default: exit %d: %s", r.code, r.stderr)
	}
	p, err := readers.ReadOCIFile(dd)
	if err != nil {
		t.Fatal(err)
	}
	// Docker allows read, denies reboot (CAP_SYS_BOOT is not among its
	// default capabilities) and allows clone only without namespace flags.
	if s := p.Lookup("read"); s == nil || len(s.Rules) != 0 {
		t.Errorf("read: %+v, want allowed", s)
	}
	if p.Lookup("reboot") != nil {
		t.Error("reboot allowed: the conditional entries were not resolved for Docker's default capabilities")
	}
	if s := p.Lookup("clone"); s == nil || len(s.Rules) == 0 {
		t.Errorf("clone: %+v, want argument rules", s)
	}
	learned := filepath.Join(dir, "learned.json")
	if err := os.WriteFile(learned, []byte(profileInput), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runProfgen(t, dir, "diff", learned, dd)
	if r.code != 1 || !strings.Contains(r.stdout, "accept4") {
		t.Errorf("diff learned docker-default: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if r := runProfgen(t, dir, "emit", "--docker-default", "-o", filepath.Join(dir, "x.json"), learned); r.code == 0 || !strings.Contains(r.stderr, "--docker-default is the input") {
		t.Errorf("emit --docker-default FILE: exit %d, %s", r.code, r.stderr)
	}
}
