package monitor

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/profgen/profgen/internal/container"
	"github.com/profgen/profgen/internal/seccomp"
)

// MaxContainers bounds the distinct containers Metrics labels: the
// records of containers first seen after that many are counted under
// container="other" (pod and namespace empty), so that a node that runs
// many short-lived containers cannot grow the series without end.
const MaxContainers = 200

// OtherContainer is the container label of the containers past
// MaxContainers.
const OtherContainer = "other"

// UnknownContainer is the container label of a record whose process had
// exited before its cgroups could be read: it may have been in a
// container or not, and is not counted as outside one.
const UnknownContainer = "unknown"

// Metrics are monitor's Prometheus counters. The labels are bounded: the
// syscall names of libseccomp (or "#NR"), the ABI (amd64, x86, x32), the
// action names, at most MaxContainers containers (id, pod, namespace and
// container name from its CRI annotations), and the four kinds of lost
// records. Process ids and names are never labels.
type Metrics struct {
	denials *prometheus.CounterVec
	logged  *prometheus.CounterVec
	lost    *prometheus.CounterVec

	mu   sync.Mutex
	pods map[string]container.Pod // by container id
	last Lost                     // as last added to lost
}

// metricLabels are the labels of the denials and logged counters.
var metricLabels = []string{"syscall", "arch", "action", "container", "pod", "namespace", "container_name"}

// NewMetrics registers monitor's counters with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		denials: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "profgen_seccomp_denials_total",
			Help: "Seccomp audit records of denied calls (every action but log and allow), by syscall, ABI, action and container.",
		}, metricLabels),
		logged: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "profgen_seccomp_logged_total",
			Help: "Seccomp audit records of calls a filter let through and logged (SCMP_ACT_LOG), by syscall, ABI and container.",
		}, metricLabels),
		lost: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "profgen_monitor_lost_records_total",
			Help: "Records monitor knows it did not see: missed (audit serial gaps), overruns (receive buffer overflows), malformed, unattributed (process gone before its cgroup was read).",
		}, []string{"reason"}),
		pods: map[string]container.Pod{},
	}
	for _, c := range []prometheus.Collector{m.denials, m.logged, m.lost} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	for _, r := range []string{"missed", "overruns", "malformed", "unattributed"} {
		m.lost.WithLabelValues(r) // present, at 0, from the start
	}
	return m, nil
}

// observe counts ev, made by a process in container id ("" for none);
// pod reads the container's pod, and whether its annotations were found.
func (m *Metrics) observe(ev Event, id string, pod func() (container.Pod, bool)) {
	var p container.Pod
	if id != "" && id != UnknownContainer {
		m.mu.Lock()
		known, ok := m.pods[id]
		switch {
		case ok:
			p = known
		case len(m.pods) >= MaxContainers:
			id = OtherContainer
		default:
			// A container whose bundle could not be read (its processes
			// gone) is asked again on its next record.
			var found bool
			if p, found = pod(); found {
				m.pods[id] = p
			}
		}
		m.mu.Unlock()
	}
	c := m.denials
	switch ev.Action.Name {
	case seccomp.ActLog:
		c = m.logged
	case seccomp.ActAllow:
		return
	}
	c.WithLabelValues(nameOr(ev.Syscall), ev.Syscall.Arch, ev.Action.Name, id, p.Name, p.Namespace, p.Container).Inc()
}

// setLost brings the lost counters up to l.
func (m *Metrics) setLost(l Lost) {
	m.mu.Lock()
	defer m.mu.Unlock()
	add := func(reason string, now, was uint64) {
		if now > was {
			m.lost.WithLabelValues(reason).Add(float64(now - was))
		}
	}
	add("missed", l.Missed, m.last.Missed)
	add("overruns", l.Overruns, m.last.Overruns)
	add("malformed", l.Malformed, m.last.Malformed)
	add("unattributed", l.Unattributed, m.last.Unattributed)
	m.last = l
}
