package engine

import (
	"slices"
	"testing"
)

func TestOf(t *testing.T) {
	for _, c := range []struct {
		ann    map[string]string
		bundle string
		want   Name
	}{
		{map[string]string{"io.container.manager": "libpod"}, "/var/lib/containers/x/userdata", Podman},
		{map[string]string{"io.container.manager": "other"}, "/tmp/b", Unknown},
		{nil, "/run/docker/containerd/daemon/io.containerd.runtime.v2.task/moby/abc", Docker},
		{map[string]string{"io.kubernetes.cri.container-type": "container"}, "/x", Containerd},
		{nil, "/run/containerd/io.containerd.runtime.v2.task/k8s.io/abc", Containerd},
		{map[string]string{"io.kubernetes.cri-o.ContainerType": "container"}, "/x", CRIO},
		{nil, "/tmp/bundle", Unknown},
	} {
		if got := Of(c.ann, c.bundle); got != c.want {
			t.Errorf("Of(%v, %q) = %s, want %s", c.ann, c.bundle, got, c.want)
		}
	}
}

func TestTable(t *testing.T) {
	names := Names(func(Engine) bool { return true })
	if sorted := slices.Sorted(slices.Values(names)); len(slices.Compact(sorted)) != len(names) {
		t.Errorf("a name has two rows: %q", names)
	}
	for _, e := range Engines {
		if e.Loader == "" {
			t.Errorf("%s: no filter loader", e.Name)
		}
		if e.Name != None && (e.Executable == "" || e.Package == "") {
			t.Errorf("%s: no executable or package to install", e.Name)
		}
		if e.Image && !e.Container {
			t.Errorf("%s: an image runs in a container", e.Name)
		}
	}
	if got, want := CgroupPrefixes(), []string{"libpod-", "docker-", "cri-containerd-", "containerd-", "crio-"}; !slices.Equal(got, want) {
		t.Errorf("CgroupPrefixes() = %q, want %q", got, want)
	}
	if got := List(Names(func(e Engine) bool { return e.Replay })); got != "none, runc, podman or docker" {
		t.Errorf("replay engines: %s", got)
	}
}

// TestPodOf: containerd's and CRI-O's annotations name the pod, its
// namespace and the container, and mark the sandbox; others name none.
func TestPodOf(t *testing.T) {
	for _, tc := range []struct {
		ann          map[string]string
		pod, ns, ctr string
		sandbox      bool
	}{
		{map[string]string{"io.kubernetes.cri.container-type": "container", "io.kubernetes.cri.sandbox-name": "web-7d9f8c6b5-x2x9k",
			"io.kubernetes.cri.sandbox-namespace": "prod", "io.kubernetes.cri.container-name": "nginx"}, "web-7d9f8c6b5-x2x9k", "prod", "nginx", false},
		{map[string]string{"io.kubernetes.cri.container-type": "sandbox", "io.kubernetes.cri.sandbox-name": "p",
			"io.kubernetes.cri.sandbox-namespace": "default"}, "p", "default", "", true},
		{map[string]string{"io.kubernetes.cri-o.ContainerType": "container", "io.kubernetes.pod.name": "db-0",
			"io.kubernetes.pod.namespace": "data", "io.kubernetes.container.name": "postgres"}, "db-0", "data", "postgres", false},
		{map[string]string{"io.kubernetes.cri-o.ContainerType": "sandbox", "io.kubernetes.pod.name": "db-0"}, "db-0", "", "", true},
		{map[string]string{"io.container.manager": "libpod"}, "", "", "", false},
	} {
		pod, ns, ctr := PodOf(tc.ann)
		if pod != tc.pod || ns != tc.ns || ctr != tc.ctr || IsSandbox(tc.ann) != tc.sandbox {
			t.Errorf("%v: %q %q %q sandbox %v", tc.ann, pod, ns, ctr, IsSandbox(tc.ann))
		}
	}
}
