package monitor

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/profgen/profgen/internal/container"
	"github.com/profgen/profgen/internal/enginetest"
	"github.com/profgen/profgen/internal/seccomp"
	"github.com/profgen/profgen/internal/testenv"
)

// TestMetricsContainer runs `profgen monitor --metrics` while a podman
// container, under containerProfile and annotated as containerd's CRI
// plugin annotates a pod's container, is killed on personality after 3
// logged getppid calls, and scrapes /metrics: the denial is counted once
// for that syscall, action and container, with the pod, namespace and
// container name of its annotations, and the logged getppid calls are
// the container's.
func TestMetricsContainer(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("containers and audit need root")
	}
	if _, err := exec.LookPath("podman"); err != nil {
		t.Skip("podman is not installed (make deps installs it)")
	}
	dir := t.TempDir()
	bin, profgen, prof, tar := containerSetup(t, dir)
	p := newPodman(t, tar)
	args := []string{"create", "--security-opt", "seccomp=" + prof,
		"--annotation", "io.kubernetes.cri.container-type=container",
		"--annotation", "io.kubernetes.cri.sandbox-name=web-7d9f8c-x2x9k",
		"--annotation", "io.kubernetes.cri.sandbox-namespace=shop",
		"--annotation", "io.kubernetes.cri.container-name=web"}
	args = append(args, enginetest.PodmanRunArgs(bin, t.TempDir())...)
	code, out := enginetest.Run(t, p.Cmd(append(args, "-i", enginetest.TestImage, "/bin/sh", "-c", "read x; exec /w/manycalls 3")...))
	if code != 0 {
		t.Fatalf("create: exit %d\n%s", code, out)
	}
	f := strings.Fields(out)
	id := f[len(f)-1]
	defer p.Cmd("rm", "-f", id).Run()

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	mon := exec.Command(profgen, "monitor", "--metrics", addr, "-o", filepath.Join(dir, "monitor.json"))
	testenv.StartMonitor(t, mon)

	start := p.Cmd("start", "--attach", "--interactive", id)
	var sout strings.Builder
	start.Stdout, start.Stderr = &sout, &sout
	in, err := start.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := start.Start(); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"container": id, "pod": "web-7d9f8c-x2x9k", "namespace": "shop", "container_name": "web"}
	// The shell's getppid (or runc's init's), while the shell waits:
	// the container's pod is read from its bundle then.
	testenv.WaitMetric(t, addr, "profgen_seccomp_logged_total", testenv.WithLabels(want, "syscall", "getppid"), func(v float64) bool { return v >= 1 })
	fmt.Fprintln(in)
	in.Close()
	start.Wait()
	if c := start.ProcessState.ExitCode(); c != 159 {
		t.Fatalf("container: exit %d, want 159 (killed by SIGSYS)\n%s", c, sout.String())
	}
	denial := testenv.WithLabels(want, "syscall", "personality", "arch", "amd64", "action", "kill_process")
	testenv.WaitMetric(t, addr, "profgen_seccomp_denials_total", denial, func(v float64) bool { return v >= 1 })
	time.Sleep(300 * time.Millisecond) // anything more would come now
	fams := testenv.Scrape(t, addr)
	if v := testenv.MetricSum(fams["profgen_seccomp_denials_total"], denial); v != 1 {
		t.Errorf("denials of personality in %s: %v, want 1", id[:12], v)
	}
	if v := testenv.MetricSum(fams["profgen_seccomp_denials_total"], nil); v != 1 {
		t.Errorf("denials in all: %v, want the one personality", v)
	}
	// manycalls' 3, the shell's and runc's init's: all the container's.
	if v := testenv.MetricSum(fams["profgen_seccomp_logged_total"], testenv.WithLabels(want, "syscall", "getppid", "action", "log")); v < 3 || v > 5 {
		t.Errorf("logged getppid in %s: %v, want manycalls' 3 and at most the shell's and runc init's\n%v", id[:12], v, fams["profgen_seccomp_logged_total"])
	}
	if fams["profgen_monitor_lost_records_total"] == nil || len(fams["profgen_monitor_lost_records_total"].Metric) != 4 {
		t.Errorf("profgen_monitor_lost_records_total: %v, want its four reasons", fams["profgen_monitor_lost_records_total"])
	}
}

// TestMetricsBounded: past MaxContainers containers, records count under
// container="other"; a record whose process was gone counts under
// "unknown", not outside any container; the pod of a container whose
// bundle could not be read is asked again.
func TestMetricsBounded(t *testing.T) {
	reg := prometheus.NewRegistry()
	met, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	deny := Event{Syscall: Syscall{Name: "ptrace", Arch: "amd64"}, Action: seccomp.Action{Name: seccomp.ActErrno}}
	asked := 0
	pod := func() (container.Pod, bool) { asked++; return container.Pod{Name: "p"}, true }
	for i := range MaxContainers + 5 {
		met.observe(deny, fmt.Sprintf("%064x", i), pod)
	}
	met.observe(deny, UnknownContainer, pod)
	met.observe(deny, "", pod)
	none := func() (container.Pod, bool) { asked++; return container.Pod{}, false }
	met.observe(deny, fmt.Sprintf("%064x", 0), none) // known: not asked
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	byContainer := map[string]float64{}
	for _, f := range fams {
		if f.GetName() != "profgen_seccomp_denials_total" {
			continue
		}
		for _, m := range f.Metric {
			for _, l := range m.Label {
				if l.GetName() == "container" {
					byContainer[l.GetValue()] += m.GetCounter().GetValue()
				}
			}
		}
	}
	if len(byContainer) != MaxContainers+3 || byContainer[OtherContainer] != 5 || byContainer[UnknownContainer] != 1 || byContainer[""] != 1 || byContainer[fmt.Sprintf("%064x", 0)] != 2 {
		t.Errorf("%d container labels (other %v, unknown %v, none %v), want %d: the first %d, other 5, unknown 1, none 1",
			len(byContainer), byContainer[OtherContainer], byContainer[UnknownContainer], byContainer[""], MaxContainers+3, MaxContainers)
	}
	if asked != MaxContainers {
		t.Errorf("pods read %d times, want once per labelled container (%d)", asked, MaxContainers)
	}
	// A bundle not found is asked again, and labelled once found.
	id := fmt.Sprintf("%064x", 1<<20)
	reg2 := prometheus.NewRegistry()
	met2, _ := NewMetrics(reg2)
	met2.observe(deny, id, none)
	met2.observe(deny, id, pod)
	met2.observe(deny, id, none)
	if got := testutilCount(t, reg2, "p"); got != 2 {
		t.Errorf("records labelled with the pod once it was read: %v, want 2", got)
	}
}

// testutilCount adds the denials labelled with pod.
func testutilCount(t *testing.T, reg *prometheus.Registry, pod string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == "profgen_seccomp_denials_total" {
			return testenv.MetricSum(f, map[string]string{"pod": pod})
		}
	}
	return 0
}
