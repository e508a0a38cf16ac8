package recording

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Workload is the group of replicas a merged recording is of: one
// container of the pods of one Kubernetes workload in one namespace
// (merge --by workload).
type Workload struct {
	// Namespace is the pods' namespace.
	Namespace string `json:"namespace"`
	// Name is the workload, from the pod names' owner part (WorkloadOf).
	Name string `json:"name"`
	// Kind is what the pod names say of the owner (the Kind constants).
	Kind string `json:"kind"`
	// Container is the container's name in the pods.
	Container string `json:"container"`
	// Pods are the replicas whose recordings were merged, sorted.
	Pods []string `json:"pods"`
	// Unseen are the pods of Pods none of whose recordings recorded the
	// container running to its end (nothing recorded, or the recording
	// was interrupted), sorted.
	Unseen []string `json:"unseen,omitempty"`
}

// The owner kinds WorkloadOf tells from a pod name.
const (
	// KindDeployment: NAME-HASH-SUFFIX, the pod-template-hash of a
	// Deployment's ReplicaSet and a generated suffix.
	KindDeployment = "Deployment"
	// KindCronJob: NAME-MINUTES-SUFFIX, a CronJob's Job named after its
	// scheduled time in minutes.
	KindCronJob = "CronJob"
	// KindGenerated: NAME-SUFFIX, a generated name: a ReplicaSet,
	// DaemonSet or Job pod.
	KindGenerated = "ReplicaSet/DaemonSet/Job"
	// KindStatefulSet: NAME-ORDINAL.
	KindStatefulSet = "StatefulSet"
	// KindPod: a name none of the rules matches, its own workload.
	KindPod = "Pod"
)

// Kubernetes' generated parts (k8s.io/apimachinery/pkg/util/rand): a
// generateName suffix is 5 characters of an alphabet without vowels and
// without 0, 1 and 3; a pod-template-hash is a uint32's decimal digits
// each mapped into that alphabet (SafeEncodeString), which lands them on
// 4-9, b, c, d and f.
var (
	generatedSuffix = regexp.MustCompile(`^[bcdfghjklmnpqrstvwxz2456789]{5}$`)
	templateHash    = regexp.MustCompile(`^[4-9bcdf]{1,10}$`)
	cronMinutes     = regexp.MustCompile(`^[0-9]{8,10}$`)
	ordinal         = regexp.MustCompile(`^(0|[1-9][0-9]{0,8})$`)
)

// WorkloadOf returns the workload a pod belongs to, from its name alone,
// and the kind of owner the name shows:
//
//	web-7d9f8c6b5-x2x9k     web     Deployment (template hash, suffix)
//	backup-28391234-x2x9k   backup  CronJob (scheduled minute, suffix)
//	fluentd-x2x9k           fluentd ReplicaSet/DaemonSet/Job (suffix)
//	db-0                    db      StatefulSet (ordinal)
//	my-pod                  my-pod  Pod (no rule matches)
//
// The name alone can mislead: a bare pod named like a generated one
// (api-bcdfg, cache-2) is taken for a replica of api or cache.
func WorkloadOf(pod string) (name, kind string) {
	parts := strings.Split(pod, "-")
	n := len(parts)
	if n >= 3 && generatedSuffix.MatchString(parts[n-1]) && parts[0] != "" {
		owner := strings.Join(parts[:n-2], "-")
		switch {
		case templateHash.MatchString(parts[n-2]):
			return owner, KindDeployment
		case cronMinutes.MatchString(parts[n-2]):
			return owner, KindCronJob
		}
	}
	if n >= 2 && parts[0] != "" {
		owner := strings.Join(parts[:n-1], "-")
		switch {
		case generatedSuffix.MatchString(parts[n-1]):
			return owner, KindGenerated
		case ordinal.MatchString(parts[n-1]):
			return owner, KindStatefulSet
		}
	}
	return pod, KindPod
}

// WorkloadKey identifies a group of replicas.
type WorkloadKey struct {
	Namespace, Workload, Container string
}

// String names the group as namespace/workload/container.
func (k WorkloadKey) String() string {
	return k.Namespace + "/" + k.Workload + "/" + k.Container
}

// FileName is the merged recording's file name for the group:
// NAMESPACE_WORKLOAD_CONTAINER.json (no Kubernetes name holds '_').
func (k WorkloadKey) FileName() string {
	return k.Namespace + "_" + k.Workload + "_" + k.Container + ".json"
}

// WorkloadKeyOf returns the group of a recording of one container of a
// pod, or of a recording already merged by workload; an error when the
// recording names no pod, namespace or container name (it was not made
// through a CRI engine).
func WorkloadKeyOf(r *Recording) (WorkloadKey, error) {
	if w := r.Workload; w != nil {
		return WorkloadKey{w.Namespace, w.Name, w.Container}, nil
	}
	c := r.Container
	if c == nil || c.Pod == "" || c.Namespace == "" || c.Name == "" {
		return WorkloadKey{}, fmt.Errorf("the recording names no pod, namespace and container name (not made through a CRI engine such as containerd or CRI-O)")
	}
	name, _ := WorkloadOf(c.Pod)
	return WorkloadKey{c.Namespace, name, c.Name}, nil
}

// workloadOf returns what r says of its group: its Workload, or one made
// of its single pod.
func workloadOf(r *Recording) (*Workload, error) {
	if r.Workload != nil {
		return r.Workload, nil
	}
	k, err := WorkloadKeyOf(r)
	if err != nil {
		return nil, err
	}
	_, kind := WorkloadOf(r.Container.Pod)
	w := &Workload{Namespace: k.Namespace, Name: k.Workload, Kind: kind, Container: k.Container, Pods: []string{r.Container.Pod}}
	if len(r.Syscalls) == 0 || r.Interrupted {
		w.Unseen = []string{r.Container.Pod}
	}
	return w, nil
}

// mergeWorkload returns the group of recs when every one of them is of the
// same group, with their pods united (a pod is seen when any of its
// recordings saw it); nil otherwise.
func mergeWorkload(recs []*Recording) *Workload {
	var out *Workload
	var key WorkloadKey
	seen := map[string]bool{}
	for _, r := range recs {
		if r.Workload == nil && (r.Container == nil || r.Container.Pod == "") {
			return nil
		}
		w, err := workloadOf(r)
		if err != nil {
			return nil
		}
		k := WorkloadKey{w.Namespace, w.Name, w.Container}
		if out == nil {
			key = k
			out = &Workload{Namespace: w.Namespace, Name: w.Name, Kind: w.Kind, Container: w.Container}
		} else if k != key {
			return nil
		}
		if w.Kind != out.Kind {
			out.Kind = Mixed
		}
		for _, p := range w.Pods {
			if !slices.Contains(out.Pods, p) {
				out.Pods = append(out.Pods, p)
			}
			if !slices.Contains(w.Unseen, p) {
				seen[p] = true
			}
		}
	}
	slices.Sort(out.Pods)
	for _, p := range out.Pods {
		if !seen[p] {
			out.Unseen = append(out.Unseen, p)
		}
	}
	return out
}

// Seen is how many of the group's pods were seen: Pods less Unseen.
func (w *Workload) Seen() int { return len(w.Pods) - len(w.Unseen) }

// K8sName is the name a SeccompProfile of the group gets: the workload,
// then the container's name unless it is the workload's, lower-cased and
// cut to Kubernetes' 253 characters.
func (w *Workload) K8sName() string {
	name := w.Name
	if w.Container != w.Name {
		name += "-" + w.Container
	}
	name = strings.ToLower(name)
	if len(name) > 253 {
		name = strings.TrimRight(name[:253], "-.")
	}
	return name
}

// validate checks what a reader relies on.
func (w *Workload) validate() error {
	if w.Namespace == "" || w.Name == "" || w.Container == "" || len(w.Pods) == 0 {
		return fmt.Errorf("%w: workload: namespace, name, container and pods must all be given", ErrFormat)
	}
	for _, p := range w.Unseen {
		if !slices.Contains(w.Pods, p) {
			return fmt.Errorf("%w: workload: unseen pod %q is not one of its pods", ErrFormat, p)
		}
	}
	return nil
}

// WorkloadGroup is one group of GroupByWorkload: its key and the indices
// of its recordings.
type WorkloadGroup struct {
	Key     WorkloadKey
	Members []int
}

// GroupByWorkload groups recordings of pods' containers (or recordings
// already merged by workload) by (namespace, workload, container name), in
// the order of the groups' keys; Merge merges a group's recordings into
// one that names it (Recording.Workload). names[i] names recs[i] in
// errors: a recording that names no pod is refused.
func GroupByWorkload(names []string, recs []*Recording) ([]WorkloadGroup, error) {
	groups := map[WorkloadKey][]int{}
	for i, r := range recs {
		k, err := WorkloadKeyOf(r)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", names[i], err)
		}
		groups[k] = append(groups[k], i)
	}
	out := make([]WorkloadGroup, 0, len(groups))
	for k, m := range groups {
		out = append(out, WorkloadGroup{k, m})
	}
	slices.SortFunc(out, func(a, b WorkloadGroup) int { return strings.Compare(a.Key.String(), b.Key.String()) })
	return out, nil
}
