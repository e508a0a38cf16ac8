package emit_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/cgroup"
	"github.com/profgen/profgen/internal/enginetest"
	"github.com/profgen/profgen/internal/runc"
	"github.com/profgen/profgen/learn"
)

// crunBPFAnnotation is crun's annotation for a raw filter, base64: crun
// loads it instead of compiling config.json's seccomp section.
const crunBPFAnnotation = "run.oci.seccomp_bpf_data"

// TestCrunBPFAnnotation: the bpf output, base64-encoded in crun's
// annotation run.oci.seccomp_bpf_data, is the filter crun puts on the
// container: the probe makes its recorded calls and is denied ptrace,
// which it makes without the annotation. So profgen's own (hot-first)
// program reaches a crun container through its runtime, with crun's own
// calls after it loads the filter (learn.LoaderCrun) in the profile.
func TestCrunBPFAnnotation(t *testing.T) {
	crun, err := exec.LookPath("crun")
	if err != nil {
		t.Fatalf("crun (scripts/deps.sh installs it): %v", err)
	}
	dir := t.TempDir()
	probe := buildProbe(t, dir, "probe")
	p := recordProbe(t, probe)
	for _, name := range learn.LoaderSyscallsNNP(learn.LoaderCrun, true) {
		if p.Lookup(name) == nil {
			if err := p.Add(learn.Syscall{Name: name, Action: learn.Allow, Origin: learn.OriginRuntime, Reason: "crun"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	data := base64.StdEncoding.EncodeToString(write(t, "bpf", p, testOpts))
	mnt, err := cgroup.V2Mount()
	if err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	runProbe := func(annotate bool) string {
		t.Helper()
		b, err := runc.NewBundle(filepath.Join(t.TempDir(), "bundle"), runc.BundleOptions{Args: []string{probe, "ptrace"}, NoNewPrivileges: true})
		if err != nil {
			t.Fatal(err)
		}
		// crun 1.8 knows runtime-spec versions up to 1.0.x only.
		b.Spec.Version = "1.0.2"
		if annotate {
			b.Spec.Annotations = map[string]string{crunBPFAnnotation: data}
		}
		cfg, err := json.Marshal(b.Spec)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(b.Dir, "config.json"), cfg, 0o644); err != nil {
			t.Fatal(err)
		}
		root := t.TempDir()
		id := runc.NewID("profgen-crun")
		out, err := enginetest.CrunUnshare(mnt, empty, fmt.Sprintf("%q --root %q run --bundle %q %s", crun, root, b.Dir, id)).Output()
		enginetest.CrunUnshare(mnt, empty, fmt.Sprintf("%q --root %q delete --force %s 2>/dev/null || true", crun, root, id)).Run()
		if err != nil {
			msg := ""
			if ee, ok := err.(*exec.ExitError); ok {
				msg = string(ee.Stderr)
			}
			t.Fatalf("crun run (annotation %v): %v\n%s%s", annotate, err, out, msg)
		}
		return string(out)
	}
	checkProbe(t, "probe in crun", runProbe(false), map[string]unix.Errno{"getuid": 0, "prctl-set-name": 0, "ptrace": unix.ESRCH})
	checkProbe(t, "probe in crun with "+crunBPFAnnotation, runProbe(true), map[string]unix.Errno{"getuid": 0, "prctl-set-name": 0, "ptrace": unix.EPERM})
}
