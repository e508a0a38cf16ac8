package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/profgen/profgen/recording"
)

// inPod makes a recording profgen-runc's of container ctr of pod in ns.
func inPod(pod, ns, ctr string) func(*recording.Recording) {
	return func(r *recording.Recording) {
		r.Container = &recording.Container{ID: pod + "-" + ctr, Bundle: "/b", Engine: "containerd", Runtime: "/usr/sbin/runc",
			Pod: pod, Namespace: ns, Name: ctr}
	}
}

// TestMergeByWorkload: merge --by workload reads directories, writes one
// merged recording per (namespace, workload, container) named for it,
// prints seen N/M replicas per group, and emit --format k8s names the
// group's SeccompProfile after it.
func TestMergeByWorkload(t *testing.T) {
	dir := t.TempDir()
	node1, node2 := filepath.Join(dir, "node1"), filepath.Join(dir, "node2")
	for _, d := range []string{node1, node2} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeRecording(t, node1, "a.json", inPod("web-7d9f8c6b5-x2x9k", "shop", "srv"))
	writeRecording(t, node2, "b.json", inPod("web-7d9f8c6b5-q7w2z", "shop", "srv"))
	writeRecording(t, node2, "c.json", func(r *recording.Recording) {
		inPod("web-7d9f8c6b5-m4n6p", "shop", "srv")(r)
		r.Syscalls = nil // deleted before it started
	})
	writeRecording(t, node1, "d.json", inPod("db-0", "shop", "postgres"))
	out := filepath.Join(dir, "out")
	r := runProfgen(t, dir, "merge", "--by", "workload", "-o", out, node1, node2)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"shop/db/postgres: 1 recording(s), seen 1/1 replicas -> " + filepath.Join(out, "shop_db_postgres.json"),
		"shop/web/srv: 3 recording(s), seen 2/3 replicas -> " + filepath.Join(out, "shop_web_srv.json") + " (not seen: web-7d9f8c6b5-m4n6p)"} {
		if !strings.Contains(r.stdout, want+"\n") {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	m, err := recording.ReadFile(filepath.Join(out, "shop_web_srv.json"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Inputs != 3 || m.Workload == nil || m.Workload.Seen() != 2 {
		t.Errorf("merged: inputs %d, workload %+v", m.Inputs, m.Workload)
	}
	r = runProfgen(t, dir, "emit", "--format", "k8s", filepath.Join(out, "shop_web_srv.json"))
	if r.code != 0 || !strings.Contains(r.stdout, "\n  name: web-srv\n") {
		t.Errorf("emit --format k8s: exit %d, want metadata.name web-srv\n%s%s", r.code, r.stdout, r.stderr)
	}
	// --name still wins.
	r = runProfgen(t, dir, "emit", "--format", "k8s", "--name", "mine", filepath.Join(out, "shop_web_srv.json"))
	if r.code != 0 || !strings.Contains(r.stdout, "\n  name: mine\n") {
		t.Errorf("emit --format k8s --name mine: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestMergeByWorkloadBadInput: each refusal is one line naming what and
// where, exit status 1 as merge's other failures, and no output
// directory is made.
func TestMergeByWorkloadBadInput(t *testing.T) {
	dir := t.TempDir()
	pod := writeRecording(t, dir, "pod.json", inPod("web-0", "ns", "c"))
	host := writeRecording(t, dir, "host.json", nil)
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	file := writeRecording(t, dir, "file.json", nil)
	out := filepath.Join(dir, "out")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{pod}, "merge --by workload: -o DIR is required"},
		{[]string{"-o", out, pod, host}, "merge --by workload: " + host + ": the recording names no pod"},
		{[]string{"-o", out, empty}, empty + ": no recordings (*.json) in the directory"},
		{[]string{"-o", file, pod}, "merge --by workload: -o " + file + " is not a directory"},
		{[]string{"--by", "node", "-o", out, pod}, `unknown --by "node" (want workload)`},
	} {
		args := append([]string{"merge"}, tc.args...)
		if tc.args[0] != "--by" {
			args = append([]string{"merge", "--by", "workload"}, tc.args...)
		}
		r := runProfgen(t, dir, args...)
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		if r.code != 1 || len(lines) != 1 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want one line with %q", args, r.code, r.stderr, tc.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%v: made %s", args, out)
		}
	}
}
