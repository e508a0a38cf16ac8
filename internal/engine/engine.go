// Package engine is the one table of container engines: where a workload
// runs (live replay's --runtime) and who made a container (profgen-runc).
// A row says what an engine is called, which executable and Debian
// package it needs, which filter loader loads the profile (its own calls
// join the profile: learn's loader of that name), how its containers'
// audit records are attributed, and how its bundles and cgroups are
// recognised. replay keeps the start function of each row it can run,
// keyed by Name; the CLI's --runtime flag, its help and validation, and
// profgen-runc's engine and image detection read this table.
//
// Adding an engine is a row here (and, to replay it, its start function
// in replay).
package engine

import "strings"

// Name names an engine, as --runtime takes it and as recordings write it.
type Name string

// The engines.
const (
	// None runs the workload directly, under profgen's own launcher.
	None Name = "none"
	// Runc runs it in a runc container, from a bundle profgen writes.
	Runc Name = "runc"
	// Podman runs an image with `podman run`.
	Podman Name = "podman"
	// Docker runs an image with `docker create` and `docker start`.
	Docker Name = "docker"
	// Containerd and CRIO only make containers profgen-runc records.
	Containerd Name = "containerd"
	CRIO       Name = "cri-o"
	// Unknown is the engine of a container no row recognises.
	Unknown Name = "unknown"
)

// Attribution says how live replay tells the audit records of an engine's
// workload apart.
type Attribution int

const (
	// BySession: the workload descends from the command profgen starts in
	// a fresh audit session, and its records carry that session.
	BySession Attribution = iota
	// ByCgroup: the workload descends from a daemon and shares its
	// session; its records are told apart by the container's cgroup
	// (internal/container), named after the container's id.
	ByCgroup
)

// Annotation is an annotation of a container's config.json; an empty
// Value matches any non-empty value.
type Annotation struct{ Key, Value string }

// Engine is one row of the table.
type Engine struct {
	Name Name
	// Executable is the command it needs on PATH ("" for none), Package
	// the Debian package that has it, Hint what else to say when it is
	// missing.
	Executable, Package, Hint string
	// Loader names the filter loader that loads the profile in it
	// (learn's loader of that name; its own calls join the profile).
	Loader string
	// Replay: live replay can run a workload in it (replay has its start
	// function).
	Replay bool
	// Container: the workload runs in a container (binds and
	// capabilities apply).
	Container bool
	// Image: the workload is IMAGE [CMD...] and the engine takes
	// arguments of its own (--engine-arg).
	Image bool
	// Attribution says how its workload's audit records are found.
	Attribution Attribution
	// Annotations and BundlePaths recognise a bundle it made: one of the
	// annotations, or a path component of the bundle directory.
	Annotations []Annotation
	BundlePaths []string
	// ImageAnnotations name the container's image in its config.json.
	ImageAnnotations []string
	// CgroupPrefixes name its containers' cgroups with the systemd cgroup
	// driver: PREFIX ID .scope.
	CgroupPrefixes []string
	// Pod names the annotations of a CRI engine that name the container's
	// pod, its namespace and the container's name in the pod; Sandbox is
	// the annotation that marks a pod's sandbox (pause) container.
	Pod     PodAnnotations
	Sandbox Annotation
}

// PodAnnotations are the keys of the annotations that name a container's
// pod, the pod's namespace and the container's name in the pod.
type PodAnnotations struct{ Pod, Namespace, Container string }

// Engines is the table, in the order bundles are recognised.
var Engines = []Engine{
	{Name: None, Loader: "none", Replay: true},
	{Name: Runc, Executable: "runc", Package: "runc", Hint: ", or use --runtime none", Loader: "runc", Replay: true, Container: true},
	{Name: Podman, Executable: "podman", Package: "podman", Loader: "runc", Replay: true, Container: true, Image: true,
		Annotations: []Annotation{{"io.container.manager", "libpod"}}, CgroupPrefixes: []string{"libpod-"}},
	{Name: Docker, Executable: "docker", Package: "docker.io", Loader: "runc", Replay: true, Container: true, Image: true, Attribution: ByCgroup,
		BundlePaths: []string{"/moby/"}, CgroupPrefixes: []string{"docker-"}},
	{Name: Containerd, Executable: "containerd", Package: "containerd", Loader: "runc", Container: true,
		Annotations:      []Annotation{{"io.kubernetes.cri.container-type", ""}},
		BundlePaths:      []string{"io.containerd.runtime"},
		ImageAnnotations: []string{"io.kubernetes.cri.image-name"},
		CgroupPrefixes:   []string{"cri-containerd-", "containerd-"},
		Pod:              PodAnnotations{"io.kubernetes.cri.sandbox-name", "io.kubernetes.cri.sandbox-namespace", "io.kubernetes.cri.container-name"},
		Sandbox:          Annotation{"io.kubernetes.cri.container-type", "sandbox"}},
	{Name: CRIO, Executable: "crio", Package: "cri-o", Loader: "runc", Container: true,
		Annotations:      []Annotation{{"io.kubernetes.cri-o.ContainerType", ""}},
		ImageAnnotations: []string{"io.kubernetes.cri-o.ImageName"},
		CgroupPrefixes:   []string{"crio-"},
		Pod:              PodAnnotations{"io.kubernetes.pod.name", "io.kubernetes.pod.namespace", "io.kubernetes.container.name"},
		Sandbox:          Annotation{"io.kubernetes.cri-o.ContainerType", "sandbox"}},
}

// Lookup returns the row of engine n.
func Lookup(n Name) (Engine, bool) {
	for _, e := range Engines {
		if e.Name == n {
			return e, true
		}
	}
	return Engine{}, false
}

// Replayable returns the rows live replay runs, in table order.
func Replayable() []Engine {
	var out []Engine
	for _, e := range Engines {
		if e.Replay {
			out = append(out, e)
		}
	}
	return out
}

// Names returns the names of the rows keep accepts, in table order.
func Names(keep func(Engine) bool) []string {
	var out []string
	for _, e := range Engines {
		if keep(e) {
			out = append(out, string(e.Name))
		}
	}
	return out
}

// List joins names as a sentence does: "a, b or c".
func List(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// Of returns the engine that made a container, from its config.json's
// annotations and its bundle directory; Unknown when no row recognises it.
func Of(ann map[string]string, bundle string) Name {
	for _, e := range Engines {
		for _, a := range e.Annotations {
			if v := ann[a.Key]; v != "" && (a.Value == "" || v == a.Value) {
				return e.Name
			}
		}
		for _, p := range e.BundlePaths {
			if strings.Contains(bundle, p) {
				return e.Name
			}
		}
	}
	return Unknown
}

// ImageAnnotations are the annotations that name a container's image, the
// engines' own first, then the OCI image-spec ones.
func ImageAnnotations() []string {
	var out []string
	for _, e := range Engines {
		out = append(out, e.ImageAnnotations...)
	}
	return append(out, "org.opencontainers.image.base.name", "org.opencontainers.image.ref.name")
}

// CgroupPrefixes are every engine's cgroup name prefixes.
func CgroupPrefixes() []string {
	var out []string
	for _, e := range Engines {
		out = append(out, e.CgroupPrefixes...)
	}
	return out
}

// PodOf returns the pod, namespace and container name a CRI engine's
// annotations give a container; empty strings when none does.
func PodOf(ann map[string]string) (pod, namespace, container string) {
	for _, e := range Engines {
		if k := e.Pod; k.Pod != "" && ann[k.Pod] != "" {
			return ann[k.Pod], ann[k.Namespace], ann[k.Container]
		}
	}
	return "", "", ""
}

// IsSandbox reports whether the annotations mark a pod's sandbox (pause)
// container.
func IsSandbox(ann map[string]string) bool {
	for _, e := range Engines {
		if a := e.Sandbox; a.Key != "" && ann[a.Key] == a.Value {
			return true
		}
	}
	return false
}
