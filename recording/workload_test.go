package recording

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// TestWorkloadOf: the owner part of pod names, by the rules of
// Kubernetes' generated names, and names no rule matches.
func TestWorkloadOf(t *testing.T) {
	for _, tc := range []struct{ pod, name, kind string }{
		{"web-7d9f8c6b5-x2x9k", "web", KindDeployment},
		{"my-web-app-5b4d6f9c8d-2m4xz", "my-web-app", KindDeployment},
		{"web-4-bcdfg", "web", KindDeployment}, // a one-digit hash
		{"backup-28391234-x2x9k", "backup", KindCronJob},
		{"fluentd-x2x9k", "fluentd", KindGenerated},
		{"job-abc12", "job-abc12", KindPod}, // a and 1 are never generated
		{"migrate-schema-q7w2z", "migrate-schema", KindGenerated},
		// The limit of names alone: "db" could be a template hash.
		{"migrate-db-q7w2z", "migrate", KindDeployment},
		{"my-app-x2x9k", "my-app", KindGenerated}, // "app" is no template hash
		{"db-0", "db", KindStatefulSet},
		{"redis-cluster-12", "redis-cluster", KindStatefulSet},
		{"db-01", "db-01", KindPod}, // ordinals have no leading zero
		{"nginx", "nginx", KindPod},
		{"my-pod", "my-pod", KindPod},
		{"web-7d9f8c6b5-x2x9", "web-7d9f8c6b5-x2x9", KindPod}, // a 4-character suffix
		{"web-7D9F8-x2x9k", "web-7D9F8", KindGenerated},
	} {
		name, kind := WorkloadOf(tc.pod)
		if name != tc.name || kind != tc.kind {
			t.Errorf("WorkloadOf(%q) = %q, %q; want %q, %q", tc.pod, name, kind, tc.name, tc.kind)
		}
	}
}

// TestWorkloadK8sName: the SeccompProfile's name is the workload and the
// container's name, one when they are the same, within 253 characters.
func TestWorkloadK8sName(t *testing.T) {
	for _, tc := range []struct {
		w    Workload
		want string
	}{
		{Workload{Name: "web", Container: "nginx"}, "web-nginx"},
		{Workload{Name: "redis", Container: "redis"}, "redis"},
		{Workload{Name: "db.v2", Container: "postgres"}, "db.v2-postgres"},
		{Workload{Name: strings.Repeat("a", 252), Container: "c"}, strings.Repeat("a", 252)},
	} {
		if got := tc.w.K8sName(); got != tc.want {
			t.Errorf("%+v: K8sName %q, want %q", tc.w, got, tc.want)
		}
	}
}

// podRecording is sample() recorded in container ctr of pod in ns.
func podRecording(pod, ns, ctr string) *Recording {
	r := sample()
	r.Container = &Container{ID: pod + "-" + ctr, Bundle: "/b", Engine: "containerd", Runtime: "/usr/sbin/runc", Pod: pod, Namespace: ns, Name: ctr}
	return r
}

// TestGroupByWorkload: replicas of a Deployment group into one merged
// recording per (namespace, workload, container), which names its pods
// and those not seen; merging merged groups again unites their pods; a
// recording that names no pod is refused, naming it.
func TestGroupByWorkload(t *testing.T) {
	empty := podRecording("web-7d9f8c6b5-zzzzz", "prod", "nginx")
	empty.Syscalls = nil
	recs := []*Recording{
		podRecording("web-7d9f8c6b5-x2x9k", "prod", "nginx"),
		podRecording("web-7d9f8c6b5-q7w2z", "prod", "nginx"),
		podRecording("web-7d9f8c6b5-x2x9k", "prod", "sidecar"),
		podRecording("web-7d9f8c6b5-x2x9k", "staging", "nginx"),
		podRecording("db-0", "prod", "postgres"),
		podRecording("db-1", "prod", "postgres"),
		empty,
	}
	names := make([]string, len(recs))
	for i := range names {
		names[i] = "r" + string(rune('0'+i))
	}
	groups, err := GroupByWorkload(names, recs)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	var merged []*Recording
	for _, g := range groups {
		got = append(got, g.Key.String())
		var members []*Recording
		for _, i := range g.Members {
			members = append(members, recs[i])
		}
		m, err := Merge(members...)
		if err != nil {
			t.Fatal(err)
		}
		merged = append(merged, m)
	}
	if want := []string{"prod/db/postgres", "prod/web/nginx", "prod/web/sidecar", "staging/web/nginx"}; !slices.Equal(got, want) {
		t.Fatalf("groups %v, want %v", got, want)
	}
	web := merged[1]
	w := web.Workload
	if w == nil || web.Inputs != 3 || w.Kind != KindDeployment || w.Seen() != 2 || len(w.Pods) != 3 ||
		!slices.Equal(w.Unseen, []string{"web-7d9f8c6b5-zzzzz"}) {
		t.Fatalf("prod/web/nginx: inputs %d, workload %+v", web.Inputs, w)
	}
	if k := groups[1].Key.FileName(); k != "prod_web_nginx.json" {
		t.Errorf("file name %q", k)
	}
	if w := merged[0].Workload; w.Kind != KindStatefulSet || w.Seen() != 2 || !slices.Equal(w.Pods, []string{"db-0", "db-1"}) {
		t.Errorf("prod/db/postgres: %+v", w)
	}
	// Written and read back, the group survives; merged again with a
	// recording of another replica (one seen this time), it grows.
	var b bytes.Buffer
	if err := web.Encode(&b); err != nil {
		t.Fatal(err)
	}
	back, err := Parse(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	again, err := Merge(back, podRecording("web-7d9f8c6b5-zzzzz", "prod", "nginx"), podRecording("web-7d9f8c6b5-bcdfg", "prod", "nginx"))
	if err != nil {
		t.Fatal(err)
	}
	if w := again.Workload; w == nil || len(w.Pods) != 4 || w.Seen() != 4 {
		t.Errorf("merged again: %+v", w)
	}
	// Recordings of different groups merged plainly name no group.
	if m, err := Merge(recs[0], recs[2]); err != nil || m.Workload != nil {
		t.Errorf("merge across groups: workload %+v, %v", m.Workload, err)
	}
	plain := sample()
	if _, err := GroupByWorkload([]string{"a.json", "host.json"}, []*Recording{recs[0], plain}); err == nil || !strings.HasPrefix(err.Error(), "host.json: ") {
		t.Errorf("a recording without a pod: %v", err)
	}
}

// TestWorkloadValidate: a workload section with an unseen pod that is not
// one of its pods, or without a name, is refused on reading.
func TestWorkloadValidate(t *testing.T) {
	for _, w := range []*Workload{
		{Namespace: "ns", Name: "web", Container: "c", Pods: []string{"a"}, Unseen: []string{"b"}},
		{Namespace: "ns", Container: "c", Pods: []string{"a"}},
	} {
		r := sample()
		r.Workload = w
		if err := r.Validate(); err == nil {
			t.Errorf("workload %+v accepted", w)
		}
	}
}
