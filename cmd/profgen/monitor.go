package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/profgen/profgen/internal/fileio"
	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/monitor"
)

type monitorParams struct {
	filter    monitor.Filter
	output    string
	maxSize   string
	maxMB     int
	keep      int
	compress  bool
	toProfile string
	base      string
	errno     bool
	metrics   string
}

func (p *monitorParams) validate(cmd *cobra.Command) error {
	if err := p.filter.Validate(); err != nil {
		return err
	}
	if p.output == fileio.Stdout {
		p.output = "" // standard output, the default
	}
	if p.output == "" {
		for _, f := range []string{"max-size", "keep", "compress"} {
			if cmd.Flags().Changed(f) {
				return fmt.Errorf("--%s needs --output FILE", f)
			}
		}
	}
	mb, err := monitor.ParseSize(p.maxSize)
	if err != nil {
		return fmt.Errorf("--max-size: %w", err)
	}
	p.maxMB = mb
	if p.keep < 0 {
		return fmt.Errorf("--keep %d: want 0 (keep all) or more", p.keep)
	}
	if p.base != "" {
		if p.toProfile == "" {
			return errors.New("--base needs --to-profile FILE")
		}
		abs, err := filepath.Abs(p.base)
		if err != nil {
			return fmt.Errorf("--base: %w", err)
		}
		if _, err := readProfile(abs); err != nil {
			return fmt.Errorf("--base: %w", err)
		}
		p.base = abs
	}
	if p.toProfile == fileio.Stdout && p.output == "" {
		return errors.New("--to-profile - needs --output FILE: standard output holds the JSON lines")
	}
	return nil
}

func newMonitorCmd() *cobra.Command {
	var p monitorParams
	cmd := &cobra.Command{
		Use:   "monitor [--pid PID] [--comm NAME] [--exe PATH] [--cgroup PATH] [--container ID] [-o FILE [--max-size 100M] [--keep 10] [--compress]] [--to-profile FILE [--base PROFILE]]",
		Short: "Log seccomp denials and logged calls of the machine as JSON lines",
		Long: `monitor reads the kernel's seccomp audit records (type 1326) from the audit
netlink multicast group, for the whole machine or for the processes the
filters select (all given filters must match), and writes one JSON object a
line: timestamp, process {pid, comm, exe, uid}, syscall {name, nr, arch}
named for the ABI the call was made through, action {name, errno, ...}
decoded, and details {ip, serial, session}. The kernel's record carries the
action but not the errno number; --errno-from-filter reads each denied
process's filter once (ptrace, CAP_SYS_ADMIN) and runs it for the call to
find it ("errnoFromFilter": true).

The kernel writes a record for kill actions always, for SCMP_ACT_LOG always,
and for errno, trap, trace and user_notif only when the filter was loaded
with SECCOMP_FILTER_FLAG_LOG (OCI "flags": ["SECCOMP_FILTER_FLAG_LOG"]).

Records the stream lost (a full receive buffer, gaps in the audit serial
numbers) are counted and written as a line of their own
{"lost": {...}, "events": N}, when the counts change and once at the end
("final": true). With --output the file is rotated by size (gzip with
--compress). When standard error is a terminal and the JSON lines go
elsewhere, a live summary is drawn on it (per syscall, process, action).
SIGINT or SIGTERM stops monitor: what was read is written, the file closed.

--to-profile FILE writes what was seen (native ABI) as a recording that
'profgen emit' learns from and 'profgen merge' takes; with --base PROFILE,
the profile the workload runs under, emit adds what was seen to it. A
seccomp audit record carries no argument values: a syscall the base allows
only with argument rules (a pinned openat) is left out of the recording,
with a note, rather than allowed with any arguments. Needs CAP_AUDIT_READ
(root).

--metrics ADDR serves Prometheus metrics on http://ADDR/metrics while
monitor runs: profgen_seccomp_denials_total and profgen_seccomp_logged_total
by syscall, arch, action and container (the id from the caller's cgroup; pod,
namespace and container_name from the container's CRI annotations in its
bundle's config.json, empty where they cannot be read), and
profgen_monitor_lost_records_total by reason. At most 200 containers are
labelled; later ones count as container="other" (docs/operations.md).`,
		Example: `  sudo profgen monitor --comm nginx
  sudo profgen monitor --metrics 127.0.0.1:9464 -o /var/log/profgen/seccomp.json
  sudo profgen monitor -o /var/log/profgen/seccomp.json --max-size 100M --keep 10 --compress
  sudo profgen monitor --container 3f2a9c --to-profile seen.json --base seccomp.json
  profgen emit -o seccomp-next.json seen.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := p.validate(cmd); err != nil {
				return err
			}
			return runMonitor(cmd.OutOrStdout(), &p)
		},
	}
	f := cmd.Flags()
	f.IntVar(&p.filter.Pid, "pid", 0, "only records of this process (thread group) id")
	f.StringVar(&p.filter.Comm, "comm", "", "only records of threads with this name")
	f.StringVar(&p.filter.Exe, "exe", "", "only records of processes running this executable (full path)")
	f.StringVar(&p.filter.Cgroup, "cgroup", "", "only records of processes in this cgroup v2 path (as /proc/PID/cgroup shows it) or below")
	f.StringVar(&p.filter.Container, "container", "", "only records of processes of the container with this id (or id prefix), found by the engine's cgroup naming")
	f.StringVarP(&p.output, "output", "o", "", "append to FILE (a regular file or a new path) instead of standard output (-), rotated by size")
	f.StringVar(&p.maxSize, "max-size", "100M", "with --output: rotate when the file would grow past this size (whole M or G)")
	f.IntVar(&p.keep, "keep", 10, "with --output: rotated files to keep (0: all)")
	f.BoolVar(&p.compress, "compress", false, "with --output: gzip rotated files")
	f.StringVar(&p.toProfile, "to-profile", "", "at the end, write what was seen as a recording for emit and merge")
	f.StringVar(&p.base, "base", "", "with --to-profile: the OCI profile the monitored workload runs under")
	f.StringVar(&p.metrics, "metrics", "", "serve Prometheus metrics on http://ADDR/metrics (HOST:PORT) while monitoring")
	f.BoolVar(&p.errno, "errno-from-filter", false, "find the errno number of errno denials (not in the kernel's record) by reading the caller's filter with ptrace, once per process")
	return cmd
}

func runMonitor(stdout io.Writer, p *monitorParams) error {
	// Fail before monitoring when the recording cannot be written: its
	// temporary file is created now.
	var prof *fileio.File
	if p.toProfile != "" {
		var err error
		if prof, err = fileio.Create(p.toProfile, stdout); err != nil {
			return fmt.Errorf("--to-profile: %w", err)
		}
		defer prof.Abort()
	}
	// The base, read now so that a bad one fails before monitoring: the
	// syscalls it allows only with argument rules stay out of the
	// fragment (monitor.Fragment).
	var pinned map[string]bool
	if p.base != "" {
		bp, err := readProfile(p.base)
		if err != nil {
			return fmt.Errorf("--base: %w", err)
		}
		pinned = conditionalAllows(bp)
	}
	opts := monitor.Options{Filter: p.filter, Out: stdout, ErrnoFromFilter: p.errno}
	if p.metrics != "" {
		reg := prometheus.NewRegistry()
		var err error
		if opts.Metrics, err = monitor.NewMetrics(reg); err != nil {
			return err
		}
		// Listen now, so that a bad or taken address fails before
		// monitoring.
		l, err := net.Listen("tcp", p.metrics)
		if err != nil {
			return fmt.Errorf("--metrics: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(l)
		defer srv.Close()
	}
	var rot *monitor.Rotating
	created := false // the output file did not exist: remove it on failure
	if p.output != "" {
		_, err := os.Stat(p.output)
		created = errors.Is(err, os.ErrNotExist)
		if rot, err = monitor.NewRotating(p.output, p.maxMB, p.keep, p.compress); err != nil {
			return err
		}
		opts.Out = rot
	}
	// The live summary goes to a terminal, unless the JSON lines do.
	if out, ok := stdout.(*os.File); isTerminal(os.Stderr) && (rot != nil || ok && !isTerminal(out)) {
		opts.Summary = os.Stderr
	}
	m, err := monitor.Open(opts)
	if err != nil {
		if rot != nil {
			rot.Close()
			if created {
				os.Remove(p.output)
			}
		}
		return err
	}
	// monitor stops on these itself, flushing what it read (main would
	// otherwise die of them).
	sigs := make(chan os.Signal, 1)
	catchSignals(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go func() {
		select {
		case <-sigs:
			stop()
		case <-ctx.Done():
		}
	}()
	fmt.Fprintln(os.Stderr, "profgen: monitor: reading seccomp audit records; SIGINT, SIGTERM or SIGHUP stops")
	runErr := m.Run(ctx)
	if rot != nil {
		if err := rot.Close(); err != nil && runErr == nil {
			runErr = err
		}
	}
	if runErr != nil {
		return runErr
	}
	events, lost := m.Stats()
	fmt.Fprintf(os.Stderr, "profgen: monitor: %d events; lost: missed %d, overruns %d, malformed %d, unattributed %d\n",
		events, lost.Missed, lost.Overruns, lost.Malformed, lost.Unattributed)
	if p.toProfile != "" {
		rec, err := m.Fragment("profgen "+version, p.base, pinned)
		if err != nil {
			return fmt.Errorf("--to-profile: %w", err)
		}
		err = rec.Encode(prof)
		if err == nil {
			err = prof.Commit()
		}
		if err != nil {
			return fmt.Errorf("--to-profile: %w", err)
		}
		fmt.Fprintf(os.Stderr, "profgen: wrote %s (%d syscalls)\n", p.toProfile, len(rec.Syscalls))
	}
	return nil
}

// conditionalAllows names the syscalls p allows (or logs) only with some
// argument values.
func conditionalAllows(p *learn.Profile) map[string]bool {
	out := map[string]bool{}
	for _, s := range p.Syscalls {
		if (s.Action == learn.Allow || s.Action == learn.Log) && !s.Unconditional() {
			out[s.Name] = true
		}
	}
	return out
}
