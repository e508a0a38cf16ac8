package monitor

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/profgen/profgen/internal/container"
	"github.com/profgen/profgen/internal/seccomp"
)

// TestOperationsAlertRule decodes the alerting rule of docs/operations.md
// strictly as a Prometheus rule file and checks that every metric its
// expressions name is one Metrics serves, with the labels they group by
// (Prometheus adds instance).
func TestOperationsAlertRule(t *testing.T) {
	data, err := os.ReadFile("../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	i := strings.Index(doc, "### Prometheus metrics")
	if i < 0 {
		t.Fatal("docs/operations.md has no section on Prometheus metrics")
	}
	m := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindStringSubmatch(doc[i:])
	if m == nil {
		t.Fatal("docs/operations.md: no yaml block in the metrics section")
	}
	var file struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Expr        string            `yaml:"expr"`
				For         string            `yaml:"for"`
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	dec := yaml.NewDecoder(bytes.NewReader([]byte(m[1])))
	dec.KnownFields(true)
	if err := dec.Decode(&file); err != nil {
		t.Fatalf("the rule file: %v", err)
	}
	// What Metrics serves, each with its labels.
	reg := prometheus.NewRegistry()
	met, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	id := strings.Repeat("a", 64)
	pod := func() (container.Pod, bool) { return container.Pod{Name: "p", Namespace: "n", Container: "c"}, true }
	met.observe(Event{Syscall: Syscall{Name: "ptrace", Arch: "amd64"}, Action: seccomp.Action{Name: seccomp.ActErrno}}, id, pod)
	met.observe(Event{Syscall: Syscall{Name: "getppid", Arch: "amd64"}, Action: seccomp.Action{Name: seccomp.ActLog}}, id, pod)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]map[string]bool{}
	for _, f := range fams {
		labels[f.GetName()] = map[string]bool{"instance": true, "job": true}
		for _, l := range f.Metric[0].Label {
			labels[f.GetName()][l.GetName()] = true
		}
	}
	rules := 0
	for _, g := range file.Groups {
		for _, r := range g.Rules {
			rules++
			if r.Alert == "" || r.Expr == "" || r.Annotations["summary"] == "" {
				t.Errorf("rule %+v: want alert, expr and a summary", r)
			}
			if _, err := model.ParseDuration(r.For); err != nil {
				t.Errorf("rule %s: for %q: %v", r.Alert, r.For, err)
			}
			names := regexp.MustCompile(`profgen_[a-z_]+`).FindAllString(r.Expr, -1)
			if len(names) == 0 {
				t.Errorf("rule %s names no profgen metric: %s", r.Alert, r.Expr)
			}
			for _, n := range names {
				ls, ok := labels[n]
				if !ok {
					t.Errorf("rule %s: monitor serves no metric %s", r.Alert, n)
					continue
				}
				for _, by := range regexp.MustCompile(`by \(([^)]*)\)`).FindAllStringSubmatch(r.Expr, -1) {
					for _, l := range strings.Split(by[1], ",") {
						if l = strings.TrimSpace(l); !ls[l] {
							t.Errorf("rule %s: %s has no label %s", r.Alert, n, l)
						}
					}
				}
			}
		}
	}
	if rules == 0 {
		t.Error("the rule file has no rules")
	}
}
