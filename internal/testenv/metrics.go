package testenv

import (
	"net/http"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Scrape reads http://addr/metrics in Prometheus' text format.
func Scrape(t testing.TB, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("scrape: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	return fams
}

// MetricSum adds the counters of fam whose labels include want.
func MetricSum(fam *dto.MetricFamily, want map[string]string) float64 {
	if fam == nil {
		return 0
	}
	var n float64
	for _, m := range fam.Metric {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		ok := true
		for k, v := range want {
			ok = ok && labels[k] == v
		}
		if ok {
			n += m.GetCounter().GetValue()
		}
	}
	return n
}

// WaitMetric waits (at most a minute) until the counters of name with the
// labels want add up to a value ok accepts.
func WaitMetric(t testing.TB, addr, name string, want map[string]string, ok func(float64) bool) {
	t.Helper()
	var fams map[string]*dto.MetricFamily
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		fams = Scrape(t, addr)
		if ok(MetricSum(fams[name], want)) {
			return
		}
	}
	t.Fatalf("%s%v: not reached; scraped %v", name, want, fams[name])
}

// WithLabels is base with the label pairs kv added.
func WithLabels(base map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}
