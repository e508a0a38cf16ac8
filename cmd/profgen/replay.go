package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/profgen/profgen/internal/engine"
	"github.com/profgen/profgen/internal/exitcode"
	ll "github.com/profgen/profgen/internal/landlock"
	"github.com/profgen/profgen/landlock"
	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/replay"
	"github.com/profgen/profgen/trace"
)

type replayParams struct {
	profile  string
	runtime  replay.Engine
	drive    string
	ready    string
	grace    time.Duration
	json     bool
	static   bool
	logOnly  bool
	nnp      bool
	binds    []string
	capAdd   []string
	capDrop  []string
	expect   int
	engine   []string
	readyMax time.Duration
	// landlock is a Landlock ruleset replayed with the profile.
	landlock string
}

func newReplayCmd() *cobra.Command {
	var p replayParams
	cmd := &cobra.Command{
		Use:   "replay --profile FILE [flags] -- COMMAND [ARGS...] | replay --static --profile FILE RECORDING...",
		Short: "Prove a profile: rerun the workload under it and report every denied syscall",
		Long: `replay runs COMMAND under the OCI seccomp profile FILE and reports every
syscall the profile denied, read back from the kernel's audit records of the
workload's own audit session.

With --runtime runc (the default) the workload runs in a runc container
(the host's /usr bind-mounted read-only, a tmpfs /tmp, the host network,
root with Docker's default capabilities, changed by --cap-add and
--cap-drop as docker run's, the workload's binary bind-mounted at its host
path, --bind PATH, SRC:DST or SRC:DST:rw binds, working directory /) that
loads the profile itself, so the calls runc makes after loading the
filter are checked too: give files the workload needs as absolute paths and
--bind them. With --runtime
none it runs directly under the compiled filter. With --runtime podman,
COMMAND is IMAGE [CMD...], run with podman run --rm --security-opt
seccomp=FILE (--bind paths as read-only volumes, --engine-arg values passed
to podman run before the image). With --runtime docker, COMMAND is IMAGE
[CMD...] too, run with docker create --security-opt seccomp=FILE and docker
start --attach on the daemon the docker command reaches (DOCKER_HOST);
--engine-arg values go to docker create (-i attaches standard input). The
container descends from dockerd, not from profgen, so its audit records
are told apart by the container's cgroup. With --drive, profgen waits
until the workload is ready (--ready), runs the driver with sh -c on the
host, then stops the workload (SIGTERM through runc, podman or docker,
SIGKILL after --grace).

PASS needs more than no denial: the workload must exit with --expect-exit
(0 by default) when it ends by itself, and with --drive it must get ready
and the driver must exit 0 (a workload profgen stopped may end with 0 or
by SIGTERM or SIGKILL). Each failure is named, with the process and its
status; a denial in each run is named with its pid, comm and executable.

The kernel audits a denied call only when the filter was loaded with
SECCOMP_FILTER_FLAG_LOG. profgen's launcher (--runtime none) sets it: one
enforced run, and the denials it met are reported. runc before 1.2 cannot:
replay then runs twice, enforced (its exit status counts), then log-only
(as --log-only asks: the profile's default action switched to SCMP_ACT_LOG,
nothing denied, every call the profile would have denied reported). The
report says so. --log-only lists every would-be denial, not only those an
enforced run reaches before the workload gives up.

With --static, nothing runs: each syscall and argument shape of the
recordings is checked against the profile's compiled filter in a BPF VM.

--landlock RULESET replays a Landlock ruleset with the profile (or alone):
each access it denied is named from Landlock's audit records. In a
container (runc, podman, docker) the static launcher profgen-landlock,
beside profgen's executable, and the ruleset are bind-mounted at /.profgen
and the launcher runs in front of the container's command, as profgen-runc
applies io.profgen.landlock; the ruleset's paths are the container's, and
the launcher runs under --profile too.

A recording that lost events (its "lost" is not 0) may miss calls the
profile denies: --static then reads NO VERDICT instead of PASS.

Exit status: 0 nothing denied and the workload and driver behaved; 1 a
syscall was denied (each is named); 2 profgen could not replay (also when
podman or docker could not create or start the container); 3 nothing
denied, but the workload or driver failed, or (--static) a recording lost
events.`,
		Example: `  profgen replay --profile seccomp.json -- ./server --once
  profgen replay --runtime runc --profile seccomp.json --ready tcp:127.0.0.1:8080 \
      --drive './load-test http://127.0.0.1:8080' -- ./server --addr 127.0.0.1:8080
  profgen replay --runtime none --json --profile seccomp.json -- /bin/true
  profgen replay --runtime podman --profile seccomp.json --engine-arg=--network=host -- myimage --serve
  profgen replay --runtime docker --profile seccomp.json --engine-arg=--network=host \
      --ready tcp:127.0.0.1:8080 --drive 'curl -fsS http://127.0.0.1:8080/' -- myimage --serve
  profgen replay --runtime runc --profile apache.json --cap-add NET_ADMIN --bind /srv/logs:/var/log/apache2:rw \
      --ready tcp:127.0.0.1:80 --drive 'curl -fsS http://127.0.0.1/' -- /usr/sbin/apache2 -DFOREGROUND
  profgen replay --profile seccomp.json --expect-exit 1 -- ./tool --check
  profgen replay --runtime podman --landlock ruleset.json --engine-arg=--network=host \
      --ready tcp:127.0.0.1:8080 --drive 'curl -fsS http://127.0.0.1:8080/' -- myimage --serve
  profgen replay --static --profile seccomp.json profgen-recording.json`,
		Args: cobra.ArbitraryArgs, // checked in RunE, once flags after recordings are read
		RunE: func(cmd *cobra.Command, args []string) error {
			args, err := recordingFlags(cmd, &p, args)
			if err != nil {
				return err
			}
			if len(args) == 0 {
				if p.static {
					return errors.New("no recording given: usage profgen replay --static --profile FILE RECORDING...")
				}
				return errors.New("no command given: usage profgen replay --profile FILE [flags] -- COMMAND [ARGS...]")
			}
			binds, err := p.validate()
			if err != nil {
				return err
			}
			return runReplay(cmd.Context(), cmd.OutOrStdout(), &p, binds, args)
		},
	}
	f := cmd.Flags()
	// Everything after COMMAND is the command's; flags after the
	// recordings of --static are read by recordingFlags.
	f.SetInterspersed(false)
	f.StringVar(&p.profile, "profile", "", "OCI seccomp profile to replay under (required, unless --landlock: then only the ruleset is replayed)")
	containers, images := strings.Join(containerEngines(), ", ")+": ", strings.Join(imageEngines(), ", ")+": "
	f.StringVar((*string)(&p.runtime), "runtime", string(replay.RuntimeRunc), "where the workload runs: "+engine.List(containerEngines())+" (COMMAND is IMAGE [CMD...]), or none")
	f.StringVar(&p.drive, "drive", "", "shell command that exercises the workload; the workload is stopped when it ends")
	f.StringVar(&p.ready, "ready", "", "with --drive, wait until the workload is ready: tcp:HOST:PORT or delay:DURATION")
	f.DurationVar(&p.readyMax, "ready-timeout", 0, "how long to wait for --ready (0: 30s)")
	f.DurationVar(&p.grace, "grace", replay.DefaultGrace, "time between SIGTERM and SIGKILL when the workload is stopped")
	f.BoolVar(&p.json, "json", false, "print the report as JSON (the workload's standard output goes to standard error)")
	f.StringVar(&p.landlock, "landlock", "", "Landlock ruleset (emit --format landlock) to replay with the profile, each denial named from Landlock's audit records: on the host (--runtime none), in a container through the static launcher profgen-landlock beside profgen (paths of the container), or --static")
	f.BoolVar(&p.static, "static", false, "check recordings against the profile without running anything")
	f.BoolVar(&p.logOnly, "log-only", false, "switch the profile's default action to log: deny nothing, report what would be denied")
	f.BoolVar(&p.nnp, "no-new-privileges", false, containers+"run the container with no_new_privs (Docker's default is not to)")
	f.StringArrayVar(&p.binds, "bind", nil, containers+"bind-mount a host path into the container: PATH or SRC:DST (read-only), SRC:DST:rw (writable) (repeatable)")
	f.StringArrayVar(&p.capAdd, "cap-add", nil, containers+"add a capability to the container's, as docker run --cap-add (NET_ADMIN or CAP_NET_ADMIN, ALL; repeatable)")
	f.StringArrayVar(&p.capDrop, "cap-drop", nil, containers+"drop a capability from the container's, as docker run --cap-drop (repeatable)")
	f.IntVar(&p.expect, "expect-exit", 0, "the exit status the workload is expected to end with on its own (its recording's exit.code)")
	f.StringArrayVar(&p.engine, "engine-arg", nil, images+"pass this argument to podman run or docker create before the image (repeatable; --engine-arg=-v --engine-arg=/data:/data)")
	return cmd
}

// containerEngines names the engines replay runs a container in (binds
// and capabilities apply), imageEngines those that run an image (and take
// --engine-arg), in the engine table's order.
func containerEngines() []string {
	return engine.Names(func(e engine.Engine) bool { return e.Replay && e.Container })
}

func imageEngines() []string {
	return engine.Names(func(e engine.Engine) bool { return e.Replay && e.Image })
}

// recordingFlags reads the flags that follow the recordings of --static
// (replay --static REC --profile P), as other commands take flags anywhere.
// Without --static, or when the arguments came after --, they are the
// command's and are returned as they are.
func recordingFlags(cmd *cobra.Command, p *replayParams, args []string) ([]string, error) {
	if cmd.ArgsLenAtDash() >= 0 || !(p.static || slices.Contains(args, "--static")) {
		return args, nil
	}
	f := cmd.Flags()
	f.SetInterspersed(true)
	if err := f.Parse(args); err != nil {
		return nil, err
	}
	return f.Args(), nil
}

// validate checks the flags that need no file and returns the binds.
func (p *replayParams) validate() ([]replay.Bind, error) {
	if p.profile == "" && p.landlock == "" {
		return nil, errors.New("no profile given: use --profile FILE (or --landlock RULESET, or both)")
	}
	if p.static {
		if p.drive != "" || p.ready != "" || p.logOnly || p.nnp || len(p.binds) > 0 || len(p.capAdd) > 0 || len(p.capDrop) > 0 {
			return nil, errors.New("--static checks recordings: --drive, --ready, --log-only, --no-new-privileges, --bind, --cap-add and --cap-drop do not apply")
		}
	}
	e, ok := engine.Lookup(p.runtime)
	if !ok || !e.Replay {
		return nil, fmt.Errorf("unknown --runtime %q (want %s)", p.runtime, engine.List(append(containerEngines(), string(engine.None))))
	}
	if len(p.engine) > 0 && !e.Image {
		return nil, fmt.Errorf("--engine-arg needs --runtime %s", engine.List(imageEngines()))
	}
	if !e.Container && (len(p.binds) > 0 || len(p.capAdd) > 0 || len(p.capDrop) > 0) {
		return nil, fmt.Errorf("--bind, --cap-add and --cap-drop need a container: --runtime %s", engine.List(containerEngines()))
	}
	if err := checkReady(p.ready, p.drive); err != nil {
		return nil, err
	}
	if p.grace < 0 || p.readyMax < 0 {
		return nil, errors.New("--grace and --ready-timeout must not be negative")
	}
	if p.expect < 0 || p.expect > 255 {
		return nil, fmt.Errorf("--expect-exit %d: an exit status is 0-255", p.expect)
	}
	var binds []replay.Bind
	for _, b := range p.binds {
		bind, err := replay.ParseBind(b)
		if err != nil {
			return nil, fmt.Errorf("--bind: %w", err)
		}
		binds = append(binds, bind)
	}
	var err error
	if p.capAdd, p.capDrop, err = replay.NormalizeCapabilities(p.capAdd, p.capDrop); err != nil {
		return nil, err
	}
	return binds, nil
}

func runReplay(ctx context.Context, stdout io.Writer, p *replayParams, binds []replay.Bind, args []string) error {
	if ctx == nil {
		ctx = context.Background()
	}
	rep, err := doReplay(ctx, stdout, p, binds, args)
	if err != nil {
		return filterAdvice(err)
	}
	if p.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else if err := rep.WriteText(stdout); err != nil {
		return err
	}
	switch {
	case !rep.OK():
		return &exitError{code: exitcode.Found}
	case rep.Lost > 0:
		return &exitError{code: exitcode.NoVerdict, err: fmt.Errorf("nothing was denied, but the recordings lost %d syscall events (record again with a larger --max-shapes): no verdict", rep.Lost)}
	case len(rep.Failures) > 0:
		return &exitError{code: exitcode.NoVerdict, err: fmt.Errorf("nothing was denied, but %s: no verdict", strings.Join(rep.Failures, "; "))}
	}
	return nil
}

// doReplay checks the input, then replays; it returns the report, or an
// error when no verdict could be reached.
func doReplay(ctx context.Context, stdout io.Writer, p *replayParams, binds []replay.Bind, args []string) (*replay.Report, error) {
	var prof *learn.Profile
	var err error
	if p.profile != "" {
		if prof, err = readProfile(p.profile); err != nil {
			return nil, err
		}
	}
	var ruleset *landlock.Ruleset
	var launcher string
	if p.landlock != "" {
		if ruleset, err = readRuleset(p.landlock); err != nil {
			return nil, err
		}
		if !p.static && p.runtime != replay.RuntimeNone {
			if launcher, err = findLauncher(); err != nil {
				return nil, fmt.Errorf("--landlock with --runtime %s: %w", p.runtime, err)
			}
		}
	}
	if p.static {
		return replayStatic(prof, ruleset, args)
	}
	// replay.Live checks the command and the runtime's executables.
	sigs := make(chan os.Signal, 2)
	// The signals record stops on: SIGHUP and SIGQUIT reach the workload
	// as SIGTERM, and none kills profgen with the workload left running.
	catchSignals(sigs, trace.StopSignals...)
	defer signal.Stop(sigs)
	// runc runs the container in its own process group: a signal to
	// profgen ends the replay (the container is killed and deleted).
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var signals chan os.Signal
	var interrupted atomic.Bool
	if p.runtime != replay.RuntimeNone {
		go func() {
			select {
			case <-sigs:
				interrupted.Store(true)
				cancel()
			case <-ctx.Done():
			}
		}()
	} else {
		signals = sigs
	}

	var out io.Writer = os.Stdout
	if p.json || stdout != os.Stdout {
		out = os.Stderr
	}
	rep, err := replay.Live(ctx, replay.LiveOptions{
		Profile:         prof,
		Command:         args,
		Runtime:         p.runtime,
		Drive:           p.drive,
		Ready:           p.ready,
		ReadyTimeout:    p.readyMax,
		Grace:           p.grace,
		LogOnly:         p.logOnly,
		NoNewPrivileges: p.nnp,
		Binds:           binds,
		CapAdd:          p.capAdd,
		CapDrop:         p.capDrop,
		ExpectExit:      p.expect,
		EngineArgs:      p.engine,
		Stdin:           os.Stdin,
		Stdout:          out,
		Stderr:          os.Stderr,
		Signals:         signals,
		Landlock:        ruleset,

		LandlockLauncher: launcher,
	})
	if err != nil && interrupted.Load() {
		return nil, replay.ErrInterrupted
	}
	return rep, err
}

// findLauncher returns the static Landlock launcher beside profgen's
// executable, as profgen-runc finds it beside its own.
func findLauncher() (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	return ll.FindLauncher(self)
}

// replayStatic checks recordings (merged as a union) against prof, and
// against ruleset when not nil.
func replayStatic(prof *learn.Profile, ruleset *landlock.Ruleset, paths []string) (*replay.Report, error) {
	recs, err := readRecordings(paths)
	if err != nil {
		return nil, err
	}
	lrep := &replay.Report{Mode: replay.ModeStatic, Violations: []replay.Violation{}}
	if ruleset != nil {
		if lrep, err = replay.StaticLandlock(ruleset, recs.Recording); err != nil {
			return nil, err
		}
	}
	if prof == nil {
		lrep.Notes = append(lrep.Notes, "no seccomp profile: only the Landlock ruleset was checked")
		return lrep, nil
	}
	rep, err := replay.Static(prof, recs.Recording)
	if err != nil || ruleset == nil {
		return rep, err
	}
	rep.Landlock = append([]replay.LandlockViolation{}, lrep.Landlock...)
	rep.Checked += lrep.Checked
	rep.Notes = append(rep.Notes, lrep.Notes...)
	return rep, nil
}
