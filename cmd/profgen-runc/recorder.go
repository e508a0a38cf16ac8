package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/cgroup"
	"github.com/profgen/profgen/internal/exitcode"
	"github.com/profgen/profgen/internal/fileio"
	"github.com/profgen/profgen/internal/proc"
	"github.com/profgen/profgen/recording"
	"github.com/profgen/profgen/trace"
)

// recorderEnv, when set, makes profgen-runc the detached recorder of one
// container; its value is the recorderConfig as JSON. Descriptor 3 is the
// handshake pipe: the recorder writes "ok\n" once attached, or
// "error MESSAGE\n".
const recorderEnv = "PROFGEN_RUNC_RECORDER"

// recorderWaitMax bounds how long delete waits for a recording.
const recorderWaitMax = 30 * time.Second

// lockPath is the recorder's lock file for container id.
func lockPath(id string) string {
	return filepath.Join(stateDir, strings.ReplaceAll(id, "/", "_")+".lock")
}

// runRecorder is the detached recorder's main.
func runRecorder() int {
	hs := os.NewFile(3, "handshake")
	var cfg recorderConfig
	if err := json.Unmarshal([]byte(os.Getenv(recorderEnv)), &cfg); err != nil {
		fmt.Fprintf(hs, "error bad recorder configuration: %v\n", err)
		return exitcode.Failed
	}
	os.Unsetenv(recorderEnv)
	// SIGTERM or SIGINT end the recording early (marked interrupted).
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, unix.SIGTERM, unix.SIGINT)
	signal.Ignore(unix.SIGHUP, unix.SIGPIPE)

	attached := time.Now()
	// Before the entrypoint can exit: it waits in the runtime's init.
	ep := watchEntrypoint(cfg.Pid)
	defer ep.close()
	lock, att, backend, err := attach(&cfg)
	if err != nil {
		fmt.Fprintf(hs, "error %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
		return exitcode.Failed
	}
	fmt.Fprintln(hs, "ok")
	hs.Close()

	ready := watchReady(&cfg, lock, att)
	interrupted := !att.WaitEmpty(sigs)
	ended := time.Now()
	readyNote := ready.stop()
	var sat recording.Saturation
	err = finish(&cfg, att, interrupted, func(rec *recording.Recording) {
		if !interrupted {
			setExit(rec, ep, startedAt(lock, attached), ended)
		}
		if readyNote != "" {
			rec.Notes = append(rec.Notes, readyNote)
		}
		setStopped(rec, stoppedAt(lock))
		sat = rec.Saturation()
	})
	if err == nil {
		logSaturation(&cfg, sat)
	}
	backend.Close()
	os.Remove(lock.Name())
	lock.Close()
	if err != nil {
		appendLog(cfg.LogPath, cfg.LogFormat, "error", "profgen-runc recorder: "+err.Error())
		// The engine may not show the runtime's log: leave the reason
		// beside the recording that is missing.
		fileio.Write(cfg.Out+".error", nil, func(w io.Writer) error {
			_, err := fmt.Fprintln(w, err)
			return err
		})
		return exitcode.Failed
	}
	return exitcode.OK
}

// attach takes the container's lock and attaches the eBPF backend to the
// container's own cgroup v2. The caller closes the backend after Finish.
func attach(cfg *recorderConfig) (*os.File, *trace.Attached, trace.Backend, error) {
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return nil, nil, nil, fmt.Errorf("state directory: %w", err)
	}
	lock, err := os.OpenFile(lockPath(cfg.ID), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("lock file: %w", err)
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		lock.Close()
		return nil, nil, nil, fmt.Errorf("lock file %s: %w (is container %s recorded twice?)", lock.Name(), err, cfg.ID)
	}
	fail := func(err error) (*os.File, *trace.Attached, trace.Backend, error) {
		os.Remove(lock.Name())
		lock.Close()
		return nil, nil, nil, err
	}
	cg, err := cgroup.Of(cfg.Pid)
	if err != nil {
		return fail(err)
	}
	// The container's init must have a cgroup v2 of its own: counting a
	// shared one would record other processes' calls as the container's.
	procs, err := os.ReadFile(filepath.Join(cg, "cgroup.procs"))
	if err != nil {
		return fail(fmt.Errorf("read the container's cgroup: %w", err))
	}
	if others := slices.DeleteFunc(proc.ParsePids(procs), func(p int) bool { return p == cfg.Pid }); len(others) > 0 {
		return fail(fmt.Errorf("the container's cgroup v2 %s also holds processes %s: the runtime did not give the container a cgroup v2 of its own", cg, strings.Trim(fmt.Sprint(others), "[]")))
	}
	b, err := trace.NewEBPF(trace.EBPFOptions{Paths: true})
	if err != nil {
		return fail(err)
	}
	notes := append([]string{fmt.Sprintf("recorded by profgen-runc through %s: every task of the container's cgroup %s from its entrypoint's execve on",
		cfg.Runtime, cg)}, cfg.Notes...)
	att, err := trace.Attach(trace.AttachOptions{
		Cgroup:  cg,
		Backend: b,
		Command: cfg.Command,
		Tool:    "profgen-runc " + version,
		Notes:   notes,
	})
	if err != nil {
		b.Close()
		return fail(err)
	}
	return lock, att, b, nil
}

// finish collects the recording, lets exit fill in how the container
// ended, and writes it atomically.
func finish(cfg *recorderConfig, att *trace.Attached, interrupted bool, exit func(*recording.Recording)) error {
	rec, _, err := att.Finish(interrupted)
	if err != nil {
		return fmt.Errorf("container %s: %w", cfg.ID, err)
	}
	rec.Container = &recording.Container{
		ID:        cfg.ID,
		Bundle:    cfg.Bundle,
		Image:     cfg.Image,
		Engine:    cfg.Engine,
		Runtime:   cfg.Runtime,
		Pod:       cfg.Pod,
		Namespace: cfg.Namespace,
		Name:      cfg.Name,
	}
	if len(rec.Syscalls) == 0 {
		rec.Notes = append(rec.Notes, "no syscall was recorded: the container was deleted before it started")
	}
	exit(rec)
	if cfg.Seccomp != nil {
		judged := rec
		if cfg.LauncherSeccomp {
			judged = withoutLauncherCalls(rec)
		}
		rec.EngineProfile = judge(judged, cfg.Seccomp, cfg.KeepSeccomp)
		rec.Notes = append(rec.Notes, engineNotes(rec.EngineProfile)...)
	}
	if err := rec.WriteFile(cfg.Out); err != nil {
		return fmt.Errorf("container %s: %w", cfg.ID, err)
	}
	return nil
}

// waitRecorder waits until the recorder of container id, if one runs, has
// written its recording.
func waitRecorder(id string) error {
	f, err := os.Open(lockPath(id))
	if err != nil {
		return nil // no recorder, or it is done
	}
	defer f.Close()
	deadline := time.Now().Add(recorderWaitMax)
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB)
		if err == nil {
			// Done, or killed before it could remove its lock file.
			os.Remove(f.Name())
			return nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			return fmt.Errorf("wait for the recorder of %s: %w", id, err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the recorder of container %s did not finish within %v", id, recorderWaitMax)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// recorderRunning reports whether the recorder of container id holds its
// lock.
func recorderRunning(id string) bool {
	f, err := os.Open(lockPath(id))
	if err != nil {
		return false
	}
	defer f.Close()
	return errors.Is(unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB), unix.EWOULDBLOCK)
}

// appendLog appends msg at level ("info", "error") to the runtime's log
// file in its format ("json" or text), as runc writes it; without a log
// file it does nothing.
func appendLog(path, format, level, msg string) {
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	now := time.Now().UTC().Format(time.RFC3339Nano)
	if format == "json" {
		line, _ := json.Marshal(map[string]string{"level": level, "msg": msg, "time": now})
		f.Write(append(line, '\n'))
		return
	}
	fmt.Fprintf(f, "time=%q level=%s msg=%q\n", now, level, msg)
}
