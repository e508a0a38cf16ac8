package main

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/profgen/profgen/emit"
	"github.com/profgen/profgen/readers"
)

// seccompProfile is the Security Profiles Operator's SeccompProfile with
// the spec emit --format k8s writes and the full object metadata.
type seccompProfile struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        metav1.ObjectMeta `json:"metadata"`
	Spec            emit.K8sSpec      `json:"spec"`
}

// k8sObjects are the kinds docs/kubernetes.md may hold, each decoded into
// its API type.
var k8sObjects = map[string]func() any{
	"apps/v1 DaemonSet":                     func() any { return &appsv1.DaemonSet{} },
	"apps/v1 Deployment":                    func() any { return &appsv1.Deployment{} },
	"apps/v1 StatefulSet":                   func() any { return &appsv1.StatefulSet{} },
	"batch/v1 Job":                          func() any { return &batchv1.Job{} },
	"node.k8s.io/v1 RuntimeClass":           func() any { return &nodev1.RuntimeClass{} },
	"v1 ConfigMap":                          func() any { return &corev1.ConfigMap{} },
	"v1 Pod":                                func() any { return &corev1.Pod{} },
	"v1 ServiceAccount":                     func() any { return &corev1.ServiceAccount{} },
	emit.K8sAPIVersion + " " + emit.K8sKind: func() any { return &seccompProfile{} },
}

// TestKubernetesManifests decodes every YAML document of
// docs/kubernetes.md strictly (unknown fields fail) into its k8s.io/api
// type, or the SeccompProfile into the shape emit --format k8s writes, and
// the containerd fragment as TOML, and checks that the names which must
// agree do: the handler containerd registers is the RuntimeClass's, the
// recording Deployment uses that RuntimeClass on the nodes the installer
// runs on, and every Localhost profile a workload names is one the page
// installs (a ConfigMap's profile copied into the kubelet's directory, or
// an SPO SeccompProfile in the workload's namespace), and reads as an OCI
// profile.
func TestKubernetesManifests(t *testing.T) {
	data, err := os.ReadFile("../../docs/kubernetes.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	var (
		daemonSets  []*appsv1.DaemonSet
		deployments []*appsv1.Deployment
		runtimes    []*nodev1.RuntimeClass
		configMaps  []*corev1.ConfigMap
		spoProfiles []*seccompProfile
		objects     int
	)
	for _, block := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(doc, -1) {
		for i, d := range regexp.MustCompile(`(?m)^---\s*$`).Split(block[1], -1) {
			if strings.TrimSpace(d) == "" {
				continue
			}
			var tm metav1.TypeMeta
			if err := yaml.Unmarshal([]byte(d), &tm); err != nil {
				t.Errorf("document %d of a yaml block: %v\n%s", i, err, d)
				continue
			}
			newObj, ok := k8sObjects[tm.APIVersion+" "+tm.Kind]
			if !ok {
				t.Errorf("document %q: apiVersion %q kind %q is none this test knows: add its k8s.io/api type to k8sObjects", firstLine(d), tm.APIVersion, tm.Kind)
				continue
			}
			obj := newObj()
			if err := yaml.UnmarshalStrict([]byte(d), obj); err != nil {
				t.Errorf("%s: %v\n%s", tm.Kind, err, d)
				continue
			}
			objects++
			switch o := obj.(type) {
			case *appsv1.DaemonSet:
				daemonSets = append(daemonSets, o)
			case *appsv1.Deployment:
				deployments = append(deployments, o)
			case *nodev1.RuntimeClass:
				runtimes = append(runtimes, o)
			case *corev1.ConfigMap:
				configMaps = append(configMaps, o)
			case *seccompProfile:
				spoProfiles = append(spoProfiles, o)
			}
		}
	}
	if len(daemonSets) == 0 || len(deployments) == 0 || len(runtimes) == 0 || len(spoProfiles) == 0 || len(configMaps) == 0 {
		t.Fatalf("docs/kubernetes.md: %d objects; want DaemonSets, Deployments, a RuntimeClass, ConfigMaps and a SeccompProfile", objects)
	}

	// The containerd fragment: TOML, the one the installer's ConfigMap
	// holds, registering the handler the RuntimeClass names.
	tomls := regexp.MustCompile("(?s)```toml\n(.*?)```").FindAllStringSubmatch(doc, -1)
	if len(tomls) != 1 {
		t.Fatalf("docs/kubernetes.md: %d toml blocks, want the containerd fragment", len(tomls))
	}
	handlers := containerdHandlers(t, tomls[0][1])
	installed := false
	for _, cm := range configMaps {
		for name, v := range cm.Data {
			if strings.HasSuffix(name, ".toml") {
				installed = true
				if v != tomls[0][1] {
					t.Errorf("ConfigMap %s's %s differs from the fragment shown", cm.Name, name)
				}
			}
		}
	}
	if !installed {
		t.Error("no ConfigMap holds the containerd fragment")
	}
	rcs := map[string]*nodev1.RuntimeClass{}
	for _, rc := range runtimes {
		rcs[rc.Name] = rc
		if handlers[rc.Handler] != "/usr/local/bin/profgen-runc" {
			t.Errorf("RuntimeClass %s: handler %q is not the fragment's profgen-runc handler (%v)", rc.Name, rc.Handler, handlers)
		}
	}
	recording := 0
	for _, d := range deployments {
		spec := d.Spec.Template.Spec
		if spec.RuntimeClassName != nil {
			rc := rcs[*spec.RuntimeClassName]
			if rc == nil {
				t.Errorf("Deployment %s: runtimeClassName %s is no RuntimeClass of the page", d.Name, *spec.RuntimeClassName)
				continue
			}
			recording++
			if rc.Scheduling == nil || !onInstalledNodes(daemonSets, rc.Scheduling.NodeSelector) {
				t.Errorf("RuntimeClass %s: its nodeSelector is not the installer DaemonSet's", rc.Name)
			}
		}
		if err := checkLocalhost(d, configMaps, daemonSets, spoProfiles); err != nil {
			t.Errorf("Deployment %s: %v", d.Name, err)
		}
	}
	if recording == 0 {
		t.Error("no Deployment records (runtimeClassName)")
	}
	for _, p := range spoProfiles {
		if err := emit.CheckK8sName(p.Metadata.Name); err != nil {
			t.Errorf("SeccompProfile %s: %v", p.Metadata.Name, err)
		}
	}
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// containerdHandlers decodes a containerd config (version 2) and returns
// the BinaryName of each CRI runtime handler.
func containerdHandlers(t *testing.T, text string) map[string]string {
	t.Helper()
	var conf struct {
		Version int `toml:"version"`
		Plugins struct {
			CRI struct {
				Containerd struct {
					Runtimes map[string]struct {
						RuntimeType string `toml:"runtime_type"`
						Options     struct {
							BinaryName string `toml:"BinaryName"`
						} `toml:"options"`
					} `toml:"runtimes"`
				} `toml:"containerd"`
			} `toml:"io.containerd.grpc.v1.cri"`
		} `toml:"plugins"`
	}
	dec := toml.NewDecoder(strings.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&conf); err != nil {
		t.Fatalf("the containerd fragment: %v", err)
	}
	if conf.Version != 2 {
		t.Errorf("the containerd fragment: version %d, want 2", conf.Version)
	}
	out := map[string]string{}
	for name, r := range conf.Plugins.CRI.Containerd.Runtimes {
		if r.RuntimeType != "io.containerd.runc.v2" {
			t.Errorf("runtime %s: runtime_type %q, want io.containerd.runc.v2", name, r.RuntimeType)
		}
		out[name] = r.Options.BinaryName
	}
	return out
}

// onInstalledNodes reports whether sel is the nodeSelector of a DaemonSet
// that installs profgen-runc into the host's /usr/local/bin.
func onInstalledNodes(daemonSets []*appsv1.DaemonSet, sel map[string]string) bool {
	for _, ds := range daemonSets {
		spec := ds.Spec.Template.Spec
		if len(sel) == 0 || fmt.Sprint(spec.NodeSelector) != fmt.Sprint(sel) {
			continue
		}
		for _, v := range spec.Volumes {
			if v.HostPath != nil && v.HostPath.Path == "/usr/local/bin" {
				return true
			}
		}
	}
	return false
}

// checkLocalhost checks that a Localhost profile d names is installed by
// the page: profiles/NAME from a ConfigMap key NAME that a DaemonSet
// copies into the kubelet's /var/lib/kubelet/seccomp/profiles, or
// operator/NS/NAME.json from an SPO SeccompProfile NAME in namespace NS;
// and that the profile reads as an OCI profile.
func checkLocalhost(d *appsv1.Deployment, configMaps []*corev1.ConfigMap, daemonSets []*appsv1.DaemonSet, spo []*seccompProfile) error {
	sc := d.Spec.Template.Spec.SecurityContext
	if sc == nil || sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeLocalhost {
		return nil
	}
	if sc.SeccompProfile.LocalhostProfile == nil {
		return fmt.Errorf("Localhost profile without localhostProfile")
	}
	path := *sc.SeccompProfile.LocalhostProfile
	if rest, ok := strings.CutPrefix(path, "operator/"); ok {
		for _, p := range spo {
			if rest == p.Metadata.Namespace+"/"+p.Metadata.Name+".json" {
				if p.Metadata.Namespace != d.Namespace {
					return fmt.Errorf("SeccompProfile %s is in namespace %s, the Deployment in %s", p.Metadata.Name, p.Metadata.Namespace, d.Namespace)
				}
				return nil
			}
		}
		return fmt.Errorf("localhostProfile %s: no SeccompProfile of the page", path)
	}
	name, ok := strings.CutPrefix(path, "profiles/")
	if !ok {
		return fmt.Errorf("localhostProfile %s: neither profiles/ nor operator/", path)
	}
	for _, cm := range configMaps {
		prof, ok := cm.Data[name]
		if !ok {
			continue
		}
		if _, err := readers.ParseOCI([]byte(prof)); err != nil {
			return fmt.Errorf("ConfigMap %s's %s: %v", cm.Name, name, err)
		}
		for _, ds := range daemonSets {
			var fromCM, toKubelet bool
			for _, v := range ds.Spec.Template.Spec.Volumes {
				fromCM = fromCM || v.ConfigMap != nil && v.ConfigMap.Name == cm.Name
				toKubelet = toKubelet || v.HostPath != nil && v.HostPath.Path == "/var/lib/kubelet/seccomp/profiles"
			}
			if fromCM && toKubelet {
				return nil
			}
		}
		return fmt.Errorf("no DaemonSet copies ConfigMap %s into /var/lib/kubelet/seccomp/profiles", cm.Name)
	}
	return fmt.Errorf("localhostProfile %s: no ConfigMap of the page holds %s", path, name)
}
