package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/profgen/profgen/internal/critest"
	"github.com/profgen/profgen/internal/testenv"
)

// criMetricsProfile logs getppid and kills the process on personality.
const criMetricsProfile = `{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"],
"syscalls":[{"names":["getppid"],"action":"SCMP_ACT_LOG"},{"names":["personality"],"action":"SCMP_ACT_KILL_PROCESS"}]}`

// TestCRIMetrics runs `profgen monitor --metrics` while a pod's container,
// created through containerd's CRI with the node's runc (not the
// recording handler) under a Localhost seccomp profile, logs getppid and
// is killed on personality (setarch), and scrapes /metrics: the denial is
// counted for that syscall and action with the pod, namespace and
// container name containerd wrote into the container's bundle.
func TestCRIMetrics(t *testing.T) {
	c := needCRI(t)
	prof := filepath.Join(t.TempDir(), "seccomp.json")
	if err := os.WriteFile(prof, []byte(criMetricsProfile), 0o644); err != nil {
		t.Fatal(err)
	}
	setarch, err := exec.LookPath("setarch")
	if err != nil {
		t.Fatalf("setarch (util-linux): %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	testenv.StartMonitor(t, exec.Command(c.profgen, "monitor", "--metrics", addr, "-o", filepath.Join(t.TempDir(), "monitor.json")))

	const pod, ns, ctr = "web-6d4cf56db6-k2x8p", "shop", "web"
	cfg := c.HostPod(pod, ns)
	podID, err := c.RunPod(cfg, "")
	if err != nil {
		t.Fatalf("%v\n%s", err, tail(c.Log()))
	}
	t.Cleanup(func() { c.StopPod(podID) })
	// The shell's getppid is logged while it sleeps: the monitor reads
	// the container's pod from its bundle then; setarch's personality
	// kills it.
	spec := critest.HostContainer(ctr, testImage, []string{"/bin/sh", "-c", "sleep 2; exec " + setarch + " x86_64 /bin/true"})
	spec.Linux.SecurityContext.Seccomp = &critest.Seccomp{ProfileType: 2, LocalhostRef: prof}
	id, err := c.StartContainer(podID, cfg, spec)
	if err != nil {
		t.Fatalf("%v\n%s", err, tail(c.Log()))
	}
	want := map[string]string{"container": id, "pod": pod, "namespace": ns, "container_name": ctr}
	testenv.WaitMetric(t, addr, "profgen_seccomp_logged_total", testenv.WithLabels(want, "syscall", "getppid", "action", "log"), func(v float64) bool { return v >= 1 })
	denial := testenv.WithLabels(want, "syscall", "personality", "arch", "amd64", "action", "kill_process")
	testenv.WaitMetric(t, addr, "profgen_seccomp_denials_total", denial, func(v float64) bool { return v >= 1 })
	fams := testenv.Scrape(t, addr)
	if v := testenv.MetricSum(fams["profgen_seccomp_denials_total"], denial); v != 1 {
		t.Errorf("denials of personality in pod %s: %v, want 1\n%v", pod, v, fams["profgen_seccomp_denials_total"])
	}
}
