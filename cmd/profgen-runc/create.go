package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/profgen/profgen/internal/engine"
	"github.com/profgen/profgen/internal/exitcode"
)

// recorderConfig is what the wrapper hands the detached recorder.
type recorderConfig struct {
	ID     string `json:"id"`
	Pid    int    `json:"pid"`
	Out    string `json:"out"`
	Bundle string `json:"bundle"`
	Image  string `json:"image,omitempty"`
	// Pod, Namespace and Name are the CRI annotations' pod, namespace
	// and container name.
	Pod       string   `json:"pod,omitempty"`
	Namespace string   `json:"namespace,omitempty"`
	Name      string   `json:"name,omitempty"`
	Engine    string   `json:"engine"`
	Runtime   string   `json:"runtime"`
	Command   []string `json:"command"`
	Notes     []string `json:"notes,omitempty"`
	// Seccomp is the engine's linux.seccomp as config.json had it;
	// KeepSeccomp says that it stayed in force (the keep annotation),
	// otherwise the container runs under its log-only copy.
	Seccomp     json.RawMessage `json:"seccomp,omitempty"`
	KeepSeccomp bool            `json:"keepSeccomp,omitempty"`
	// LauncherSeccomp says that the Landlock launcher loads that
	// profile (or its log-only copy) after the ruleset: its own calls
	// before it are not judged by the profile.
	LauncherSeccomp bool `json:"launcherSeccomp,omitempty"`
	// LogPath and LogFormat are the runtime's log, where the recorder
	// reports failures after create returned.
	LogPath   string `json:"logPath,omitempty"`
	LogFormat string `json:"logFormat,omitempty"`
	// Ready is the io.profgen.ready annotation (AnnotationReady).
	Ready string `json:"ready,omitempty"`
}

// create runs the real create and starts the container's recorder; it
// returns only once the recorder is attached, and fails (deleting the
// container) when recording cannot start.
func (inv *invocation) create(runtime string) int {
	ca, err := parseCreate(inv.rest)
	if err != nil {
		inv.fail(fmt.Errorf("create: %w", err))
		return exitcode.Failed
	}
	if ann, err := bundleAnnotations(ca.bundle); err == nil && engine.IsSandbox(ann) {
		pod, ns, _ := engine.PodOf(ann)
		appendLog(inv.logPath, inv.logFormat, "info", fmt.Sprintf("profgen-runc: not recording container %s: the sandbox (pause) container of pod %s/%s", ca.id, ns, pod))
		return inv.execRuntime(runtime)
	}
	cfg, err := inv.prepare(runtime, ca)
	if err != nil {
		inv.fail(fmt.Errorf("create %s: %w", ca.id, err))
		return exitcode.Failed
	}
	if code := runReal(inv.realCmd(runtime, inv.rest)); code != 0 {
		return code
	}
	err = inv.startRecorder(runtime, ca, cfg)
	if err == nil {
		appendLog(inv.logPath, inv.logFormat, "info", fmt.Sprintf("profgen-runc: recording container %s to %s", ca.id, cfg.Out))
		return exitcode.OK
	}
	// A container that was to be recorded never runs unrecorded.
	del := exec.Command(runtime, append(append([]string(nil), inv.global...), "delete", "--force", ca.id)...)
	del.Stdout, del.Stderr = os.Stderr, os.Stderr
	if derr := del.Run(); derr != nil {
		err = fmt.Errorf("%w (and deleting the container failed: %v)", err, derr)
	}
	inv.fail(fmt.Errorf("create %s: cannot record the container: %w", ca.id, err))
	return exitcode.Failed
}

// prepare reads the bundle, decides where the recording goes and checks
// that it can be written there, before the container exists.
func (inv *invocation) prepare(runtime string, ca *createArgs) (*recorderConfig, error) {
	bundle := ca.bundle
	if bundle == "" {
		bundle = "."
	}
	bundle, err := filepath.Abs(bundle)
	if err != nil {
		return nil, err
	}
	config := filepath.Join(bundle, "config.json")
	data, err := os.ReadFile(config)
	if err != nil {
		return nil, fmt.Errorf("read bundle: %w", err)
	}
	var spec specs.Spec
	if err := json.Unmarshal(data, &spec); err != nil {
		return nil, fmt.Errorf("read bundle: %s: %w", config, err)
	}
	out := spec.Annotations[AnnotationRecord]
	if out == "" {
		dir := inv.recordDir
		if dir == "" {
			dir = DefaultRecordDir
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("recording directory: %w", err)
		}
		out = filepath.Join(dir, ca.id+".json")
	} else if !filepath.IsAbs(out) {
		return nil, fmt.Errorf("annotation %s=%s: the recording's path must be absolute", AnnotationRecord, out)
	}
	if err := probeWritable(out); err != nil {
		return nil, err
	}
	llPlan, err := planLandlock(spec.Annotations)
	if err != nil {
		return nil, err
	}
	ready, hasReady := spec.Annotations[AnnotationReady]
	if hasReady {
		if err := checkReady(ready); err != nil {
			return nil, err
		}
	}
	cfg := &recorderConfig{
		ID:        ca.id,
		Out:       out,
		Bundle:    bundle,
		Image:     imageOf(spec.Annotations),
		Engine:    string(engine.Of(spec.Annotations, bundle)),
		Runtime:   runtime,
		LogPath:   inv.logPath,
		LogFormat: inv.logFormat,
		Ready:     ready,
	}
	cfg.Pod, cfg.Namespace, cfg.Name = engine.PodOf(spec.Annotations)
	if spec.Process != nil {
		cfg.Command = spec.Process.Args
	}
	// Last, once nothing else can fail: the bundle is rewritten.
	if cfg.Seccomp, cfg.KeepSeccomp, err = prepareSeccomp(config, data, &spec); err != nil {
		return nil, err
	}
	if llPlan != nil {
		moved, note, err := applyLandlock(config, bundle, llPlan)
		if err != nil {
			return nil, err
		}
		cfg.LauncherSeccomp = moved
		cfg.Notes = append(cfg.Notes, llPlan.notes...)
		cfg.Notes = append(cfg.Notes, "recorded under the Landlock ruleset of "+AnnotationLandlock+": the accesses it refused and the calls of its launcher ("+LandlockLauncher+") are in the recording; "+
			"when the container had a seccomp profile, the launcher loaded it after the ruleset, right before its execve, so that its own calls before it need not be in a profile learned from this recording")
		if note != "" {
			cfg.Notes = append(cfg.Notes, note)
		}
	}
	return cfg, nil
}

// bundleAnnotations returns the annotations of the bundle's config.json
// ("" is the working directory).
func bundleAnnotations(bundle string) (map[string]string, error) {
	if bundle == "" {
		bundle = "."
	}
	data, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return nil, err
	}
	var spec struct {
		Annotations map[string]string `json:"annotations"`
	}
	if err := json.Unmarshal(data, &spec); err != nil {
		return nil, err
	}
	return spec.Annotations, nil
}

// isSandbox reports whether container id, as the runtime's state tells
// its bundle, is a pod's sandbox, which create does not record.
func (inv *invocation) isSandbox(runtime, id string) bool {
	out, err := exec.Command(runtime, append(append([]string(nil), inv.global...), "state", id)...).Output()
	if err != nil {
		return false
	}
	var st specs.State
	if json.Unmarshal(out, &st) != nil || st.Bundle == "" {
		return false
	}
	ann, err := bundleAnnotations(st.Bundle)
	return err == nil && engine.IsSandbox(ann)
}

// probeWritable checks that a file can be made in path's directory, as the
// recording will be (written beside it, then renamed).
func probeWritable(path string) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".probe-*")
	if err != nil {
		return fmt.Errorf("recording %s cannot be written: %w", path, errors.Unwrap(err))
	}
	f.Close()
	os.Remove(f.Name())
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("recording %s cannot be written: it is a directory", path)
	}
	return nil
}

// imageOf returns the image an engine's annotations name: profgen's own
// annotation first, then the engines' (engine.ImageAnnotations).
func imageOf(ann map[string]string) string {
	for _, k := range append([]string{AnnotationImage}, engine.ImageAnnotations()...) {
		if v := ann[k]; v != "" {
			return v
		}
	}
	return ""
}

// containerPid returns the pid of the container's init: from the pid file
// create wrote, or from the runtime's state.
func (inv *invocation) containerPid(runtime string, ca *createArgs) (int, error) {
	if ca.pidFile != "" {
		data, err := os.ReadFile(ca.pidFile)
		if err != nil {
			return 0, fmt.Errorf("read pid file: %w", err)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil || pid <= 0 {
			return 0, fmt.Errorf("pid file %s: no pid in %q", ca.pidFile, data)
		}
		return pid, nil
	}
	out, err := exec.Command(runtime, append(append([]string(nil), inv.global...), "state", ca.id)...).Output()
	if err != nil {
		return 0, fmt.Errorf("%s state %s: %w", runtime, ca.id, err)
	}
	var st specs.State
	if err := json.Unmarshal(out, &st); err != nil || st.Pid <= 0 {
		return 0, fmt.Errorf("%s state %s: no pid in its output", runtime, ca.id)
	}
	return st.Pid, nil
}

// startRecorder starts the detached recorder and waits until it reports
// that it is attached (or why it cannot be).
func (inv *invocation) startRecorder(runtime string, ca *createArgs, cfg *recorderConfig) error {
	pid, err := inv.containerPid(runtime, ca)
	if err != nil {
		return err
	}
	cfg.Pid = pid
	js, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		w.Close()
		return err
	}
	defer devnull.Close()
	// The recorder must not hold the engine's pipes open: it outlives
	// this call, and an engine waits for EOF on the runtime's output.
	cmd := exec.Command("/proc/self/exe")
	cmd.Env = append(os.Environ(), recorderEnv+"="+string(js))
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devnull, devnull, devnull
	cmd.ExtraFiles = []*os.File{w} // fd 3
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return fmt.Errorf("start recorder: %w", err)
	}
	w.Close()
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	line, _ := bufio.NewReader(r).ReadString('\n')
	line = strings.TrimSpace(line)
	if line == "ok" {
		cmd.Process.Release()
		return nil
	}
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
	}
	if msg, ok := strings.CutPrefix(line, "error "); ok {
		return errors.New(msg)
	}
	return errors.New("the recorder exited before it was attached")
}
