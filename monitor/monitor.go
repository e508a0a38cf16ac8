package monitor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/internal/audit"
	"github.com/profgen/profgen/internal/container"
	"github.com/profgen/profgen/internal/seccomp"
)

// MaxBatch bounds the bytes monitor hands Out in one Write; writes hold
// whole lines only, so a rotating writer never splits a line between
// files.
const MaxBatch = 64 << 10

// Options configure a Monitor.
type Options struct {
	Filter Filter
	// Out receives the JSON lines.
	Out io.Writer
	// Summary, when set, receives a live summary (a terminal: it is
	// cleared and redrawn) every Refresh.
	Summary io.Writer
	// Refresh is how often lost records are checked and the summary is
	// redrawn; zero means one second.
	Refresh time.Duration
	// RcvBuf is the audit socket's receive buffer; zero means the audit
	// reader's default.
	RcvBuf int
	// ErrnoFromFilter fills in the errno number of errno denials, which
	// the kernel's record lacks, from the caller's filters: each process
	// with an errno denial is seized with ptrace once to read them
	// (needs CAP_SYS_ADMIN; the process is stopped while its filters are
	// copied). The arguments are taken as zero; a number is given only
	// when the filters then return the record's action.
	ErrnoFromFilter bool
	// Metrics, when set, counts the records written (NewMetrics).
	Metrics *Metrics
}

// Lost counts records monitor knows it did not see.
type Lost struct {
	// Missed is how many audit records (of any type and process) were
	// missing from the stream by their serial numbers.
	Missed uint64 `json:"missed"`
	// Overruns is how many times the socket's receive buffer overflowed
	// (ENOBUFS); Missed says how many records that lost.
	Overruns uint64 `json:"overruns"`
	// Malformed records could not be parsed.
	Malformed uint64 `json:"malformed"`
	// Unattributed records came from processes that exited before their
	// cgroup could be read (only with a cgroup or container filter).
	Unattributed uint64 `json:"unattributed"`
}

// total is what the summary shows as lost.
func (l Lost) total() uint64 { return max(l.Missed, l.Overruns) + l.Malformed + l.Unattributed }

// LostLine is the JSON line written when the counts of Lost change, and
// once at the end (Final).
type LostLine struct {
	Timestamp time.Time `json:"timestamp"`
	Lost      Lost      `json:"lost"`
	// Events is how many event lines were written so far.
	Events uint64 `json:"events"`
	Final  bool   `json:"final,omitempty"`
}

// Monitor reads seccomp audit records and writes the selected ones.
type Monitor struct {
	opts   Options
	reader *audit.Reader
	native abi.Arch

	buf    bytes.Buffer
	events uint64
	lost   Lost // as last written
	unattr uint64

	mu        sync.Mutex
	start     time.Time
	bySyscall map[string]uint64 // "arch/name"
	byProcess map[string]uint64 // "pid comm"
	byAction  map[string]uint64
	// seen counts the native syscalls, by number, for Fragment.
	seen map[int]uint64

	errno *errnoFinder // with Options.ErrnoFromFilter
	// cgroups places the callers of records (cgroup and container
	// filters), also once they have exited.
	cgroups container.Cache
	// att is the filter as an attributor, over cgroups.
	att *audit.Attributor
}

// Open joins the audit multicast group. It fails with an error wrapping
// audit.ErrUnavailable when the caller lacks CAP_AUDIT_READ or the kernel
// has no audit.
func Open(opts Options) (*Monitor, error) {
	if err := opts.Filter.Validate(); err != nil {
		return nil, err
	}
	if opts.Out == nil {
		return nil, errors.New("monitor: no output")
	}
	if opts.Refresh <= 0 {
		opts.Refresh = time.Second
	}
	native, err := abi.Native()
	if err != nil {
		return nil, err
	}
	r, err := audit.Open(audit.Options{RcvBuf: opts.RcvBuf})
	if err != nil {
		return nil, fmt.Errorf("monitor: %w", err)
	}
	m := &Monitor{
		opts: opts, reader: r, native: native, start: time.Now(),
		bySyscall: map[string]uint64{}, byProcess: map[string]uint64{}, byAction: map[string]uint64{},
		seen: map[int]uint64{},
	}
	if opts.ErrnoFromFilter {
		m.errno = &errnoFinder{cache: map[int]cachedFilters{}}
	}
	return m, nil
}

// Run writes events until ctx is done, then writes what it still holds
// and a final LostLine, and closes the audit socket. It returns an error
// only when reading or writing fails.
func (m *Monitor) Run(ctx context.Context) error {
	recs := make(chan audit.Record, 4096)
	readErr := make(chan error, 1)
	go func() {
		defer close(recs)
		for {
			rec, err := m.reader.Next()
			if err != nil {
				if !errors.Is(err, audit.ErrClosed) {
					readErr <- err
				}
				return
			}
			recs <- rec
		}
	}()
	tick := time.NewTicker(m.opts.Refresh)
	defer tick.Stop()
	stop := func(err error) error {
		m.reader.Close()
		for rec := range recs { // what was read before the close
			if werr := m.take(rec); werr != nil && err == nil {
				err = werr
			}
		}
		if werr := m.writeLost(true); werr != nil && err == nil {
			err = werr
		}
		if werr := m.flush(); werr != nil && err == nil {
			err = werr
		}
		m.drawSummary()
		return err
	}
	for {
		select {
		case rec, ok := <-recs:
			if !ok { // the reader stopped
				var err error
				select {
				case err = <-readErr:
					err = fmt.Errorf("monitor: %w", err)
				default:
				}
				return stop(err)
			}
			if err := m.take(rec); err != nil {
				return stop(err)
			}
			if len(recs) == 0 {
				if err := m.flush(); err != nil {
					return stop(err)
				}
			}
		case <-tick.C:
			if err := m.writeLost(false); err != nil {
				return stop(err)
			}
			if err := m.flush(); err != nil {
				return stop(err)
			}
			m.drawSummary()
		case err := <-readErr:
			return stop(fmt.Errorf("monitor: %w", err))
		case <-ctx.Done():
			return stop(nil)
		}
	}
}

// take writes rec if the filter keeps it.
func (m *Monitor) take(rec audit.Record) error {
	if m.att == nil {
		m.att = m.opts.Filter.attributor(&m.cgroups)
	}
	switch v := m.att.Attribute(rec); {
	case v.Why == audit.Gone:
		m.unattr++
		return nil
	case !v.In():
		return nil
	}
	ev := NewEvent(rec)
	if m.errno != nil && ev.Action.Name == seccomp.ActErrno && ev.Action.Errno == nil {
		if n, ok := m.errno.find(rec); ok {
			ev.Action.Errno = &n
			ev.Action.ErrnoName = unix.ErrnoName(unix.Errno(n))
			ev.Action.FromFilter = true
		}
	}
	line, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	if err := m.writeLine(line); err != nil {
		return err
	}
	m.events++
	if m.opts.Metrics != nil {
		m.opts.Metrics.observe(ev, m.containerOf(rec.Pid), func() (container.Pod, bool) {
			a := container.Annotations(rec.Pid)
			return container.PodOf(a), a != nil
		})
	}
	m.mu.Lock()
	m.bySyscall[ev.Syscall.Arch+"/"+nameOr(ev.Syscall)]++
	m.byProcess[fmt.Sprintf("%d %s", ev.Process.Pid, ev.Process.Comm)]++
	m.byAction[ev.Action.String()]++
	if ev.Syscall.Arch == string(m.native) && ev.Syscall.Name != "" {
		m.seen[int(ev.Syscall.Nr)]++
	}
	m.mu.Unlock()
	return nil
}

// containerOf is the id of the container process pid is (or was) in, by
// its cgroups; "" for none, UnknownContainer when the process was gone
// before its cgroups could be read.
func (m *Monitor) containerOf(pid int) string {
	_, all, err := m.cgroups.Cgroups(pid)
	if err != nil {
		return UnknownContainer
	}
	for _, p := range all {
		if id := container.ID(p); id != "" {
			return id
		}
	}
	return ""
}

func nameOr(s Syscall) string {
	if s.Name != "" {
		return s.Name
	}
	return fmt.Sprintf("#%d", s.Nr)
}

// writeLine adds line and a newline to the pending lines, flushing them
// first when the batch would grow past MaxBatch.
func (m *Monitor) writeLine(line []byte) error {
	if m.buf.Len()+len(line)+1 > MaxBatch {
		if err := m.flush(); err != nil {
			return err
		}
	}
	m.buf.Write(line)
	m.buf.WriteByte('\n')
	return nil
}

// flush hands the pending lines to Out in one Write.
func (m *Monitor) flush() error {
	if m.buf.Len() == 0 {
		return nil
	}
	_, err := m.opts.Out.Write(m.buf.Bytes())
	m.buf.Reset()
	if err != nil {
		return fmt.Errorf("monitor: write: %w", err)
	}
	return nil
}

// currentLost reads the counters.
func (m *Monitor) currentLost() Lost {
	return Lost{
		Missed:       m.reader.Missed(),
		Overruns:     m.reader.Overruns(),
		Malformed:    m.reader.Malformed(),
		Unattributed: m.unattr,
	}
}

// writeLost writes a LostLine when the counts changed, or when final.
func (m *Monitor) writeLost(final bool) error {
	cur := m.currentLost()
	if m.opts.Metrics != nil {
		m.opts.Metrics.setLost(cur)
	}
	if cur == m.lost && !final {
		return nil
	}
	m.lost = cur
	line, err := json.Marshal(LostLine{Timestamp: time.Now().UTC(), Lost: cur, Events: m.events, Final: final})
	if err != nil {
		return err
	}
	return m.writeLine(line)
}

// Stats returns the events written and the records lost; call it after
// Run returns.
func (m *Monitor) Stats() (events uint64, lost Lost) {
	return m.events, m.currentLost()
}

// drawSummary redraws the live summary.
func (m *Monitor) drawSummary() {
	if m.opts.Summary == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	b.WriteString("\x1b[H\x1b[2J")
	lost := m.currentLost()
	fmt.Fprintf(&b, "profgen monitor: %d events in %s; lost %d (missed %d, overruns %d, malformed %d, unattributed %d)\n",
		m.events, time.Since(m.start).Round(time.Second), lost.total(), lost.Missed, lost.Overruns, lost.Malformed, lost.Unattributed)
	section := func(title string, counts map[string]uint64) {
		fmt.Fprintf(&b, "\n%s\n", title)
		for _, kv := range top(counts, 10) {
			fmt.Fprintf(&b, "  %8d  %s\n", kv.n, kv.k)
		}
	}
	section("by syscall", m.bySyscall)
	section("by process", m.byProcess)
	section("by action", m.byAction)
	io.WriteString(m.opts.Summary, b.String())
}

type kv struct {
	k string
	n uint64
}

func top(m map[string]uint64, n int) []kv {
	out := make([]kv, 0, len(m))
	for k, v := range m {
		out = append(out, kv{k, v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].n != out[j].n {
			return out[i].n > out[j].n
		}
		return out[i].k < out[j].k
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}
