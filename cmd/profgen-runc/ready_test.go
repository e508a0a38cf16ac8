package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/profgen/profgen/internal/runc"
	"github.com/profgen/profgen/internal/workload"
	"github.com/profgen/profgen/recording"
)

// TestPodmanReady records memcached through podman with
// io.profgen.ready=tcp:127.0.0.1:PORT in a container of its own network
// namespace (--network none: the probe must join it), drives it with
// podman exec and stops it: bind and listen are counted in startup only,
// accept4 and epoll_wait in serving, readyAtMs and stoppedAtMs say when.
func TestPodmanReady(t *testing.T) {
	e := needPodman(t)
	dir := t.TempDir()
	port, server := memcachedServer(t)
	out := filepath.Join(dir, "rec.json")
	name := "profgen-ready-" + filepath.Base(dir)
	args := runArgs("/usr/bin/x", t.TempDir())
	i := slices.Index(args, "--network")
	args[i+1] = "none"
	args = append(append([]string{"-d", "--name", name, "--security-opt", "seccomp=unconfined",
		"--annotation", AnnotationReady + "=tcp:127.0.0.1:" + port}, args...), testImage)
	if code, outp := e.recordRun(t, out, append(args, server...)...); code != 0 {
		t.Fatalf("podman run -d memcached: exit %d\n%s", code, outp)
	}
	defer e.podman("rm", "-f", name).Run()
	// The client runs in the container: its network is the container's.
	var outp string
	waitFor(t, "memcached to serve", func() bool {
		code, o := runCmd(t, e.podman("exec", name, "bash", "-c", memcachedDrive, "drive", port))
		outp = o
		return code == 0 && strings.Contains(o, "VALUE k 0 1")
	})
	if code, o := runCmd(t, e.podman("stop", name)); code != 0 {
		t.Fatalf("podman stop: exit %d\n%s", code, o)
	}
	waitFor(t, "the recorder to exit", func() bool { return len(recorderPids(out)) == 0 })
	rec, err := recording.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if rec.ReadyAtMs == nil {
		t.Fatalf("no readyAtMs; notes %q", rec.Notes)
	}
	if rec.StoppedAtMs == nil || *rec.StoppedAtMs <= *rec.ReadyAtMs {
		t.Errorf("stoppedAtMs %v, want after readyAtMs %d (podman stop)", rec.StoppedAtMs, *rec.ReadyAtMs)
	}
	for _, c := range []struct {
		name    string
		startup bool // counted in startup only; otherwise in serving
	}{{"bind", true}, {"listen", true}, {"accept4", false}, {"epoll_wait", false}} {
		s := rec.Lookup(c.name)
		switch {
		case s == nil:
			t.Errorf("no %s in %v", c.name, rec.Names())
		case c.startup && (s.Phases[recording.PhaseStartup] == 0 || s.Phases[recording.PhaseServing] != 0):
			t.Errorf("%s: phases %v, want startup only", c.name, s.Phases)
		case !c.startup && s.Phases[recording.PhaseServing] == 0:
			t.Errorf("%s: phases %v, want calls in serving", c.name, s.Phases)
		}
	}
	if s := rec.Lookup("listen"); s != nil && !slices.Contains(s.Exes, server[0]) {
		t.Errorf("listen made by %v, want %s", s.Exes, server[0])
	}
	if _, err := rec.Phase(recording.PhaseServing); err != nil {
		t.Errorf("the serving phase: %v (drive output %q)", err, outp)
	}
}

// TestPodmanReadyBadInput: a bad io.profgen.ready fails create with one
// line naming the annotation, and nothing runs.
func TestPodmanReadyBadInput(t *testing.T) {
	e := needPodman(t)
	for _, c := range []struct{ value, want string }{
		{"tcp:localhost:80", `annotation io.profgen.ready=tcp:localhost:80: HOST "localhost" must be an IP address`},
		{"delay:soon", `annotation io.profgen.ready=delay:soon: readiness "delay:soon": bad duration "soon"`},
		{"udp:1.2.3.4:5", `annotation io.profgen.ready=udp:1.2.3.4:5: readiness "udp:1.2.3.4:5": unknown kind "udp"`},
	} {
		out := filepath.Join(t.TempDir(), "rec.json")
		args := append([]string{"--rm", "--annotation", AnnotationReady + "=" + c.value}, runArgs("/usr/bin/x", t.TempDir())...)
		code, outp := e.recordRun(t, out, append(args, testImage, "true")...)
		if code == 0 || !strings.Contains(outp, c.want) {
			t.Errorf("%s: exit %d, want an error containing %q:\n%s", c.value, code, c.want, outp)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%s: a recording was written", c.value)
		}
	}
}

// TestRuncSaturationLog: once the recording is written, the recorder logs
// the line on how learning went to the runtime's log, and at level warning
// its warning when the container made a new call in the last tenth of its
// run (latecall late); with readiness delay:, the recording has phases.
func TestRuncSaturationLog(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("runc needs root")
	}
	bin := workload.Build(t, "latecall")
	for _, c := range []struct {
		args []string
		late bool
	}{{[]string{bin, "1500", "late"}, true}, {[]string{bin, "1500"}, false}} {
		b, err := runc.NewBundle(filepath.Join(t.TempDir(), "bundle"), runc.BundleOptions{Args: c.args})
		if err != nil {
			t.Fatal(err)
		}
		editSpec(t, b, func(spec map[string]any) {
			spec["annotations"] = map[string]string{AnnotationReady: "delay:300ms"}
		})
		w := newDirectWrapper(t)
		log := filepath.Join(t.TempDir(), "runtime.log")
		w.global = []string{"--log", log, "--log-format", "json"}
		id := "profgen-sat-" + filepath.Base(t.TempDir())
		rec := recordDirect(t, w, b, id)
		logData, err := os.ReadFile(log)
		if err != nil {
			t.Fatal(err)
		}
		var info, warning []string
		for _, l := range strings.Split(strings.TrimSpace(string(logData)), "\n") {
			var e struct{ Level, Msg string }
			if json.Unmarshal([]byte(l), &e) != nil || !strings.HasPrefix(e.Msg, "profgen-runc: container "+id+": ") {
				continue
			}
			switch e.Level {
			case "info":
				info = append(info, e.Msg)
			case "warning":
				warning = append(warning, e.Msg)
			}
		}
		if len(info) != 1 || !strings.Contains(info[0], ": learned ") {
			t.Errorf("%v: info lines %q, want one on how learning went", c.args, info)
		}
		if c.late {
			if len(warning) != 1 || !strings.Contains(warning[0], "warning: learning had not saturated: 1 syscall (sysinfo)") {
				t.Errorf("%v: warning lines %q, want one naming sysinfo\n%s", c.args, warning, logData)
			}
		} else if len(warning) != 0 || len(info) == 1 && !strings.HasSuffix(info[0], ": saturated") {
			t.Errorf("%v: info %q, warning %q, want saturated and no warning", c.args, info, warning)
		}
		if rec.ReadyAtMs == nil || *rec.ReadyAtMs < 300 {
			t.Errorf("%v: readyAtMs %v, want at least the 300 ms delay; notes %q", c.args, rec.ReadyAtMs, rec.Notes)
		}
		if s := rec.Lookup("sysinfo"); c.late && (s == nil || s.Phases[recording.PhaseServing] != 1) {
			t.Errorf("%v: sysinfo %+v, want one call in serving", c.args, s)
		}
		if s := rec.Lookup("execve"); s == nil || s.Phases[recording.PhaseStartup] == 0 {
			t.Errorf("%v: execve %+v, want calls in startup", c.args, s)
		}
	}
}

// editSpec changes the config.json of bundle b with edit.
func editSpec(t *testing.T, b *runc.Bundle, edit func(spec map[string]any)) {
	t.Helper()
	cfg := filepath.Join(b.Dir, "config.json")
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var spec map[string]any
	if err := json.Unmarshal(data, &spec); err != nil {
		t.Fatal(err)
	}
	edit(spec)
	if data, err = json.Marshal(spec); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
