package container

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/profgen/profgen/internal/proc"
)

func TestID(t *testing.T) {
	id := "3f2a9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b"
	for p, want := range map[string]string{
		"/system.slice/docker-" + id + ".scope":            id,
		"/machine.slice/libpod-" + id + ".scope/container": id,
		"/docker/" + id:                      id,
		"/kubepods/besteffort/pod1234/" + id: id,
		"/kubepods.slice/kubepods-pod1.slice/cri-containerd-" + id + ".scope": id,
		"/user.slice/user-0.slice/session-1.scope":                            "",
		"/system.slice/docker-" + id[:12] + ".scope":                          "",
		"/docker/" + id[:63] + "g":                                            "",
	} {
		if got := ID(p); got != want {
			t.Errorf("ID(%q) = %q, want %q", p, got, want)
		}
	}
}

func TestPodOf(t *testing.T) {
	for _, c := range []struct {
		a    map[string]string
		want Pod
	}{
		{map[string]string{"io.kubernetes.cri.sandbox-name": "web-1", "io.kubernetes.cri.sandbox-namespace": "shop", "io.kubernetes.cri.container-name": "web"}, Pod{"web-1", "shop", "web"}},
		{map[string]string{"io.kubernetes.pod.name": "db-0", "io.kubernetes.pod.namespace": "data", "io.kubernetes.container.name": "pg"}, Pod{"db-0", "data", "pg"}},
		{map[string]string{"org.opencontainers.image.title": "x"}, Pod{}},
		{nil, Pod{}},
	} {
		if got := PodOf(c.a); got != c.want {
			t.Errorf("PodOf(%v) = %+v, want %+v", c.a, got, c.want)
		}
	}
}

// TestAnnotations: a process whose parent runs with -b BUNDLE (as conmon
// and runc do) is placed in that bundle; one whose ancestors show none
// has no annotations.
func TestAnnotations(t *testing.T) {
	bundle := t.TempDir()
	spec := `{"ociVersion":"1.2.0","annotations":{"io.kubernetes.cri.sandbox-name":"web-1"}}`
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	// sh -c 'sleep 60' -b BUNDLE: the shell is the parent of sleep.
	cmd := exec.Command("sh", "-c", "sleep 60 & wait", "sh", "-b", bundle)
	cmd.Dir = "/"
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	var child int
	for range 200 {
		if kids := proc.Children(cmd.Process.Pid); len(kids) > 0 {
			child = kids[0]
			break
		}
		exec.Command("sleep", "0.01").Run()
	}
	if child == 0 {
		t.Fatal("sleep did not start")
	}
	if a := Annotations(child); a["io.kubernetes.cri.sandbox-name"] != "web-1" {
		t.Errorf("Annotations(sleep under -b %s) = %v", bundle, a)
	}
	if a := Annotations(os.Getpid()); a != nil {
		t.Errorf("Annotations(the test) = %v, want none", a)
	}
}
