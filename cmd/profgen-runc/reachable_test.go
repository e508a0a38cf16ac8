package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/profgen/profgen/internal/workload"
	"github.com/profgen/profgen/recording"
)

// TestPodmanReachable: a container recorded through profgen-runc in podman
// is analysed by profgen reachable inside the container's root filesystem,
// found through its bundle while podman keeps the stopped container: the
// executable copied into the container is analysed there, and the
// libraries the container took from a bind mount (/usr), which the host
// does not see in that root, are each a note, the program incomplete.
func TestPodmanReachable(t *testing.T) {
	e := needPodman(t)
	bin := workload.Build(t, "cfiletcp")
	dir := t.TempDir()
	out := filepath.Join(dir, "rec.json")
	name := "profgen-reach-" + filepath.Base(dir)
	args := append([]string{"--runtime", e.wrapper, "create", "--name", name, "--annotation", AnnotationRecord + "=" + out,
		"--security-opt", "seccomp=unconfined"}, runArgs(bin, t.TempDir())...)
	if code, outp := runCmd(t, e.podman(append(args, testImage, "/tmp/cfiletcp", "/data")...)); code != 0 {
		t.Fatalf("podman create: exit %d\n%s", code, outp)
	}
	defer e.podman("rm", "--force", name).Run()
	if code, outp := runCmd(t, e.podman("cp", bin, name+":/tmp/cfiletcp")); code != 0 {
		t.Fatalf("podman cp: exit %d\n%s", code, outp)
	}
	if code, outp := runCmd(t, e.podman("--runtime", e.wrapper, "start", "--attach", name)); code != 0 {
		t.Fatalf("podman start: exit %d\n%s", code, outp)
	}
	rec, err := recording.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Container == nil {
		t.Fatalf("no container metadata in %s", out)
	}
	b, err := exec.Command(e.profgen, "reachable", "--json", out).CombinedOutput()
	if err != nil {
		t.Fatalf("profgen reachable: %v\n%s", err, b)
	}
	var reps []struct {
		Root     string
		Programs []struct {
			Path     string
			Objects  []string
			Syscalls []string
			Complete bool
		}
		Notes []string
	}
	if err := json.Unmarshal(b, &reps); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if len(reps) != 1 || len(reps[0].Programs) != 1 {
		t.Fatalf("reports %s", b)
	}
	r, p := reps[0], reps[0].Programs[0]
	if st, err := os.Stat(filepath.Join(r.Root, "tmp", "cfiletcp")); err != nil || !st.Mode().IsRegular() || r.Root == "/" {
		t.Fatalf("root %q: not the container's (%v)", r.Root, err)
	}
	if p.Path != "/tmp/cfiletcp" || len(p.Objects) == 0 || p.Objects[0] != filepath.Join(r.Root, "tmp", "cfiletcp") || p.Complete {
		t.Errorf("program %+v: want /tmp/cfiletcp analysed in %s, incomplete", p, r.Root)
	}
	t.Logf("root %s, %d syscalls, notes %q", r.Root, len(p.Syscalls), r.Notes)
	if !slices.ContainsFunc(r.Notes, func(n string) bool {
		return strings.HasPrefix(n, "libc.so.6 (needed by /tmp/cfiletcp): library not found")
	}) {
		t.Errorf("notes %q lack libc.so.6's", r.Notes)
	}
	if want := "/lib64/ld-linux-x86-64.so.2 (needed by PT_INTERP of /tmp/cfiletcp): library not found in the root filesystem " + r.Root; !slices.Contains(r.Notes, want) {
		t.Errorf("notes %q lack %q", r.Notes, want)
	}
}
