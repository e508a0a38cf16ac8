package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/recording"
	"github.com/profgen/profgen/trace"
)

// AnnotationReady says when the container is ready, as record's --ready:
// tcp:HOST:PORT (HOST an IP address in the container's network namespace)
// or delay:DURATION (from the container's start). The recording then
// counts the calls of the startup and serving phases and has readyAtMs.
const AnnotationReady = "io.profgen.ready"

// checkReady validates the value of AnnotationReady.
func checkReady(v string) error {
	where := fmt.Sprintf("annotation %s=%s", AnnotationReady, v)
	if v == "" {
		return fmt.Errorf("%s: empty; want tcp:HOST:PORT or delay:DURATION", where)
	}
	if _, err := trace.ParseReady(v); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	if kind, arg, _ := strings.Cut(v, ":"); kind == "tcp" {
		host, _, _ := net.SplitHostPort(arg)
		if net.ParseIP(host) == nil {
			return fmt.Errorf("%s: HOST %q must be an IP address (names are not resolved in the container's network namespace)", where, host)
		}
	}
	return nil
}

// readyWatch waits, in its own goroutine, until the container is ready
// (AnnotationReady) and marks it so in the recording (Attached.MarkReady).
type readyWatch struct {
	cancel context.CancelFunc
	done   chan string // the note on how it went, "" when it marked
}

// watchReady starts waiting for the readiness cfg.Ready of the container
// whose init is cfg.Pid, recorded by att; lock is the recorder's lock file,
// into which start writes the container's start time. Nil without
// readiness.
func watchReady(cfg *recorderConfig, lock *os.File, att *trace.Attached) *readyWatch {
	if cfg.Ready == "" {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &readyWatch{cancel: cancel, done: make(chan string, 1)}
	where := AnnotationReady + "=" + cfg.Ready
	// The network namespace is opened now, while the container's init
	// waits in the runtime's: it may be gone when the probe runs.
	netns, err := unix.Open(fmt.Sprintf("/proc/%d/ns/net", cfg.Pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		cancel()
		w.done <- fmt.Sprintf("%s: the container's network namespace: %v; the recording has no phases", where, err)
		return w
	}
	go func() {
		// Locked and never unlocked: the thread joins the container's
		// network namespace and ends with this goroutine.
		runtime.LockOSThread()
		defer unix.Close(netns)
		if err := unix.Setns(netns, unix.CLONE_NEWNET); err != nil {
			w.done <- fmt.Sprintf("%s: join the container's network namespace: %v; the recording has no phases", where, err)
			return
		}
		w.done <- waitReady(ctx, cfg.Ready, lock, att)
	}()
	return w
}

// waitReady waits for the container's start, then for readiness, and
// marks it; it returns the note to add when it could not.
func waitReady(ctx context.Context, ready string, lock *os.File, att *trace.Attached) string {
	where := AnnotationReady + "=" + ready
	for startedAt(lock, time.Time{}).IsZero() {
		select {
		case <-ctx.Done():
			return where + ": the container ended before it was started: the recording has no phases"
		case <-time.After(20 * time.Millisecond):
		}
	}
	r, _ := trace.ParseReady(ready) // checked at create
	if err := r.Wait(ctx, 0, nil); err != nil {
		if ctx.Err() != nil {
			return where + ": the container ended before it was ready: the recording has no phases"
		}
		return fmt.Sprintf("%s: %v: the recording has no phases", where, err)
	}
	if err := att.MarkReady(); err != nil {
		return fmt.Sprintf("%s: %v: the recording has no phases", where, err)
	}
	return ""
}

// stop ends the wait (the container's cgroup is empty) and returns its
// note; nil does nothing.
func (w *readyWatch) stop() string {
	if w == nil {
		return ""
	}
	w.cancel()
	return <-w.done
}

// markStopped adds the time profgen-runc was first asked to signal the
// container (kill: the engine stops it) to its recorder's lock file, below
// the start time markStarted wrote: the calls first seen from then on are
// the container's shutdown (recording.Recording.StoppedAtMs).
func markStopped(id string) {
	f, err := os.OpenFile(lockPath(id), os.O_RDWR, 0)
	if err != nil {
		return // no recorder
	}
	defer f.Close()
	b := make([]byte, 256)
	n, _ := f.ReadAt(b, 0)
	if strings.Count(string(b[:n]), "\n") > 0 {
		return // stopped before: the first stop counts
	}
	if n == 0 {
		return // not started: nothing ran to stop
	}
	f.WriteAt([]byte("\n"+time.Now().UTC().Format(time.RFC3339Nano)+"\n"), int64(n))
}

// stoppedAt reads the time markStopped wrote into lock; zero when none.
func stoppedAt(lock *os.File) time.Time {
	b := make([]byte, 256)
	n, _ := lock.ReadAt(b, 0)
	lines := strings.Split(string(b[:n]), "\n")
	if len(lines) < 2 {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(lines[1]))
	if err != nil {
		return time.Time{}
	}
	return t
}

// setStopped sets rec's stoppedAtMs from the time the engine first asked
// to signal the container, when that was within the recording.
func setStopped(rec *recording.Recording, stopped time.Time) {
	if stopped.IsZero() || stopped.Before(rec.Start) || stopped.After(rec.End) {
		return
	}
	ms := stopped.Sub(rec.Start).Milliseconds()
	rec.StoppedAtMs = &ms
}

// logSaturation writes the line on how learning went (recording.Saturation)
// to the runtime's log, and its warning.
func logSaturation(cfg *recorderConfig, sat recording.Saturation) {
	appendLog(cfg.LogPath, cfg.LogFormat, "info", fmt.Sprintf("profgen-runc: container %s: %s", cfg.ID, sat))
	if w := sat.Warning(); w != "" {
		appendLog(cfg.LogPath, cfg.LogFormat, "warning", fmt.Sprintf("profgen-runc: container %s: warning: %s", cfg.ID, w))
	}
}

// firstPositional returns the first argument of args that is not a flag
// (kill's container id, before its signal).
func firstPositional(args []string) string {
	for _, a := range args {
		if _, _, _, isFlag := flagName(a); !isFlag {
			return a
		}
	}
	return ""
}
