package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/profgen/profgen/internal/critest"
	"github.com/profgen/profgen/recording"
)

// criEnv is a private containerd whose runtime handler profgen-record runs
// the built profgen-runc, driven through CRI with crictl as kubelet drives
// a node's; recordings go to profgen-runc's default directory, DIR/ID.json
// (containerd passes the runc shim no runtime arguments), each test
// removing its own.
type criEnv struct {
	*podmanEnv // the built binaries and the test image's rootfs
	*critest.Containerd
}

var (
	criOnce sync.Once
	cri     *criEnv
	criErr  error
)

func needCRI(t *testing.T) *criEnv {
	t.Helper()
	e := needPodman(t)
	criOnce.Do(func() {
		img, err := critest.OCIArchive(e.dir, filepath.Join(e.dir, "rootfs"), testImage, nil)
		if err != nil {
			criErr = err
			return
		}
		c, err := critest.Start(filepath.Join(e.dir, "containerd"), e.wrapper, img)
		if err != nil {
			criErr = err
			return
		}
		cri = &criEnv{podmanEnv: e, Containerd: c}
	})
	if criErr != nil {
		t.Fatal(criErr)
	}
	return cri
}

// criRecording returns the path of container id's recording and removes
// it (and its error file) when the test ends.
func criRecording(t *testing.T, id string) string {
	out := filepath.Join(DefaultRecordDir, id+".json")
	t.Cleanup(func() { os.Remove(out); os.Remove(out + ".error") })
	return out
}

// criRedis runs redis-server on port in a new host-network pod pod/ns,
// container name ctr, under the CRI seccomp profile type seccomp (0
// RuntimeDefault, 1 Unconfined) through the profgen-record handler, and
// returns the pod's and the container's ids.
func (c *criEnv) criRedis(t *testing.T, pod, ns, ctr string, seccomp int, server []string) (podID, id string) {
	t.Helper()
	cfg := c.HostPod(pod, ns)
	podID, err := c.RunPod(cfg, critest.Handler)
	if err != nil {
		t.Fatalf("%v\n%s", err, tail(c.Log()))
	}
	t.Cleanup(func() { c.StopPod(podID) })
	spec := critest.HostContainer(ctr, testImage, server)
	spec.Linux.SecurityContext.Seccomp = &critest.Seccomp{ProfileType: seccomp}
	id, err = c.StartContainer(podID, cfg, spec)
	if err != nil {
		t.Fatalf("%v\n%s", err, tail(c.Log()))
	}
	return podID, id
}

// tail is the end of a long log.
func tail(s string) string {
	if len(s) > 4000 {
		return "..." + s[len(s)-4000:]
	}
	return s
}

// readCRIRecording waits for the container's recorder and reads its
// recording, checking the CRI metadata of the pod.
func readCRIRecording(t *testing.T, out, id, pod, ns, ctr string) *recording.Recording {
	t.Helper()
	waitFor(t, "the recorder to exit", func() bool { return len(recorderPids(out)) == 0 })
	rec, err := recording.ReadFile(out)
	if err != nil {
		errf, _ := os.ReadFile(out + ".error")
		t.Fatalf("%v %s", err, errf)
	}
	want := recording.Container{ID: id, Engine: "containerd", Pod: pod, Namespace: ns, Name: ctr, Image: testImage + ":latest"}
	if c := rec.Container; c == nil || c.ID != want.ID || c.Engine != want.Engine || c.Pod != want.Pod || c.Namespace != want.Namespace ||
		c.Name != want.Name || c.Image != want.Image {
		t.Errorf("container metadata %+v, want %+v", rec.Container, want)
	}
	return rec
}

// TestCRIRedis records Debian's redis-server in a host-network pod created
// through containerd's CRI with the profgen-record handler, as kubelet
// would: with seccomp Unconfined and with RuntimeDefault (containerd's
// default profile in config.json, recorded under its log-only copy), the
// container's recording holds every call strace sees for the same drive on
// the host and none of the runtime's, names its pod, namespace, container
// and image; the sandbox (pause) container gets no recording.
func TestCRIRedis(t *testing.T) {
	c := needCRI(t)
	host := hostRedisCalls(t)
	for _, tc := range []struct {
		name    string
		seccomp int
	}{{"Unconfined", 1}, {"RuntimeDefault", 0}} {
		t.Run(tc.name, func(t *testing.T) {
			port, server := redisServer(t)
			pod, ns := "cache-0", "profgen-"+strings.ToLower(tc.name)
			podID, id := c.criRedis(t, pod, ns, "redis", tc.seccomp, server)
			out := criRecording(t, id)
			sandbox := criRecording(t, podID)
			if n := len(recorderPids(sandbox)); n > 0 {
				t.Errorf("the pod's sandbox (pause) container %s has %d recorders", podID, n)
			}
			driveRedis(t, port)
			if err := c.StopContainer(id, 10); err != nil {
				t.Fatal(err)
			}
			if err := c.StopPod(podID); err != nil {
				t.Fatal(err)
			}
			rec := readCRIRecording(t, out, id, pod, ns, "redis")
			if _, err := os.Stat(sandbox); err == nil {
				t.Errorf("the pod's sandbox (pause) container %s was recorded", podID)
			}
			checkHasHost(t, rec, host, "through CRI")
			checkNoEngineCalls(t, rec)
			if !slices.Equal(rec.Command, server) {
				t.Errorf("command %v, want %v", rec.Command, server)
			}
			ep := rec.EngineProfile
			if tc.seccomp == 1 {
				if ep != nil {
					t.Errorf("Unconfined: engineProfile %+v", ep)
				}
				return
			}
			if ep == nil {
				t.Fatalf("RuntimeDefault: no engineProfile; notes %q", rec.Notes)
			}
			t.Logf("containerd's default: %s (errno %d), refused %+v", ep.DefaultAction, ep.DefaultErrno, ep.Refused)
			if ep.DefaultAction != "SCMP_ACT_ERRNO" || ep.Enforced || ep.Unjudged != "" {
				t.Errorf("engine profile %+v", ep)
			}
			// containerd 1.6's default answers clone3 with ENOSYS, which
			// glibc's pthread_create meets first.
			if i := slices.IndexFunc(ep.Refused, func(f recording.Refusal) bool { return f.Name == "clone3" }); i < 0 || ep.Refused[i].ErrnoName != "ENOSYS" {
				t.Errorf("engineProfile does not say containerd's default refuses clone3 with ENOSYS: %+v", ep.Refused)
			}
		})
	}
}

// TestCRIReplicas records four replicas of one Deployment's container in
// four pods at once: four recordings, each of its own pod and container,
// which merge --by workload groups into one recording seen 4/4, whose
// SeccompProfile is named after the workload and the container.
func TestCRIReplicas(t *testing.T) {
	c := needCRI(t)
	const ns = "shop"
	pods := []string{"web-7d9f8c6b5-x2x9k", "web-7d9f8c6b5-q7w2z", "web-7d9f8c6b5-m4n6p", "web-7d9f8c6b5-b5c8d"}
	type replica struct{ port, podID, id, out string }
	reps := make([]replica, len(pods))
	var wg sync.WaitGroup
	errs := make([]error, len(pods))
	for i, pod := range pods {
		port, server := redisServer(t)
		reps[i].port = port
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg := c.HostPod(pod, ns)
			podID, err := c.RunPod(cfg, critest.Handler)
			if err != nil {
				errs[i] = err
				return
			}
			reps[i].podID = podID
			reps[i].id, errs[i] = c.StartContainer(podID, cfg, critest.HostContainer("srv", testImage, server))
		}()
	}
	wg.Wait()
	for i := range reps {
		if reps[i].podID != "" {
			t.Cleanup(func() { c.StopPod(reps[i].podID) })
		}
		if reps[i].id != "" {
			reps[i].out = criRecording(t, reps[i].id)
		}
		if errs[i] != nil {
			t.Fatalf("replica %d: %v\n%s", i, errs[i], tail(c.Log()))
		}
	}
	for _, r := range reps {
		driveRedis(t, r.port)
	}
	for _, r := range reps {
		if err := c.StopContainer(r.id, 10); err != nil {
			t.Fatal(err)
		}
		if err := c.StopPod(r.podID); err != nil {
			t.Fatal(err)
		}
	}
	var files []string
	for i, r := range reps {
		rec := readCRIRecording(t, r.out, r.id, pods[i], ns, "srv")
		for _, call := range []string{"accept4", "epoll_wait", "read", "write"} {
			if rec.Lookup(call) == nil {
				t.Errorf("replica %d (%s) has no %s: %v", i, pods[i], call, rec.Names())
			}
		}
		files = append(files, r.out)
	}

	outDir := filepath.Join(t.TempDir(), "by-workload")
	b, err := exec.Command(c.profgen, append([]string{"merge", "--by", "workload", "-o", outDir}, files...)...).CombinedOutput()
	t.Logf("profgen merge --by workload:\n%s", b)
	if err != nil {
		t.Fatalf("profgen merge --by workload: %v", err)
	}
	if !strings.Contains(string(b), "shop/web/srv") || !strings.Contains(string(b), "seen 4/4 replicas") {
		t.Errorf("merge --by workload did not report shop/web/srv seen 4/4 replicas")
	}
	merged := filepath.Join(outDir, "shop_web_srv.json")
	m, err := recording.ReadFile(merged)
	if err != nil {
		t.Fatal(err)
	}
	if w := m.Workload; w == nil || m.Inputs != 4 || w.Seen() != 4 || len(w.Pods) != 4 || w.Kind != recording.KindDeployment {
		t.Errorf("merged: inputs %d, workload %+v", m.Inputs, m.Workload)
	}
	if ents, _ := os.ReadDir(outDir); len(ents) != 1 {
		t.Errorf("%d files in %s, want 1", len(ents), outDir)
	}
	prof := filepath.Join(t.TempDir(), "web.yaml")
	if b, err := exec.Command(c.profgen, "emit", "--format", "k8s", "-o", prof, merged).CombinedOutput(); err != nil {
		t.Fatalf("profgen emit --format k8s: %v\n%s", err, b)
	}
	y, _ := os.ReadFile(prof)
	if !strings.Contains(string(y), "\n  name: web-srv\n") {
		t.Errorf("the SeccompProfile is not named web-srv:\n%.400s", y)
	}
}

// TestCRIShim checks what containerd's runc shim expects of a
// runc-compatible binary, through profgen-runc: `features` is runc's;
// a container's exit status reaches CRI and the recording; the runtime's
// --log, which the shim asks for in JSON (--log-format json) and reads on
// failure, holds only JSON lines, profgen-runc's among them.
func TestCRIShim(t *testing.T) {
	c := needCRI(t)
	want, werr := exec.Command(c.runc, "features").Output()
	got, gerr := exec.Command(c.wrapper, "features").Output()
	if werr != nil || gerr != nil || !bytes.Equal(got, want) {
		t.Errorf("profgen-runc features: %v\n%s\nrunc features: %v\n%s", gerr, got, werr, want)
	}

	cfg := c.HostPod("exit-3", "profgen-shim")
	podID, err := c.RunPod(cfg, critest.Handler)
	if err != nil {
		t.Fatalf("%v\n%s", err, tail(c.Log()))
	}
	t.Cleanup(func() { c.StopPod(podID) })
	id, err := c.StartContainer(podID, cfg, critest.HostContainer("exit", testImage, []string{"/usr/bin/sh", "-c", "sleep 1; exit 3"}))
	if err != nil {
		t.Fatalf("%v\n%s", err, tail(c.Log()))
	}
	out := criRecording(t, id)
	logs, _ := filepath.Glob(filepath.Join(c.Dir, "state", "io.containerd.runtime.v2.task", "k8s.io", id, "log.json"))
	if len(logs) != 1 {
		t.Fatalf("no log.json in the container's bundle")
	}
	data, err := os.ReadFile(logs[0])
	if err != nil {
		t.Fatal(err)
	}
	ours := false
	for sc := bufio.NewScanner(bytes.NewReader(data)); sc.Scan(); {
		var line struct{ Level, Msg, Time string }
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil || line.Level == "" || line.Time == "" {
			t.Errorf("log.json line %q is not runc's JSON: %v", sc.Text(), err)
		}
		ours = ours || strings.HasPrefix(line.Msg, "profgen-runc: recording container "+id)
	}
	if !ours {
		t.Errorf("log.json has no line of profgen-runc's:\n%s", data)
	}
	waitFor(t, "the recorder to exit", func() bool {
		_, err := os.Stat(out)
		return err == nil && len(recorderPids(out)) == 0
	})
	// containerd learns of the exit from the shim's event, which may
	// come after the recorder is done.
	var st string
	waitFor(t, "CRI to report the container exited", func() bool {
		b, _ := c.Crictl("inspect", "-o", "go-template", "--template", "{{.status.state}} {{.status.exitCode}}", id).Output()
		st = strings.TrimSpace(string(b))
		return strings.HasPrefix(st, "CONTAINER_EXITED ")
	})
	if st != "CONTAINER_EXITED 3" {
		t.Errorf("crictl inspect: %q, want exit code 3", st)
	}
	rec := readCRIRecording(t, out, id, "exit-3", "profgen-shim", "exit")
	if rec.Exit.Code != 3 {
		t.Errorf("recorded exit %+v, want 3", rec.Exit)
	}
}
