package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/recording"
)

// earlyExit is how soon after its start a container whose entrypoint
// exits with a non-zero status is flagged as a failed start.
const earlyExit = time.Second

// exitWait bounds the wait for the entrypoint's exit status once its cgroup
// is empty.
const exitWait = 5 * time.Second

// entrypoint watches the exit of the container's init (the entrypoint,
// once it has exec'd) through a pidfd opened while it still waits in the
// runtime's init: the recorder is not its parent, so it cannot wait for it,
// but the kernel (Linux 6.15 and later) keeps the exit status of a process
// for the holders of its pidfd, even once the engine has reaped it
// (PIDFD_GET_INFO with PIDFD_INFO_EXIT).
type entrypoint struct {
	pidfd int // -1 when it could not be opened
}

// watchEntrypoint opens the pidfd of process pid.
func watchEntrypoint(pid int) *entrypoint {
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if err != nil {
		fd = -1
	}
	return &entrypoint{pidfd: fd}
}

// close releases the pidfd.
func (e *entrypoint) close() {
	if e.pidfd >= 0 {
		unix.Close(e.pidfd)
		e.pidfd = -1
	}
}

// exit returns how the entrypoint ended, and false when the kernel does
// not say (it still runs, or the kernel is older than 6.15).
func (e *entrypoint) exit() (recording.Exit, bool) {
	if e.pidfd < 0 {
		return recording.Exit{}, false
	}
	// The status is there once the engine (the entrypoint's parent or
	// subreaper) has reaped it, which follows its exit from the cgroup
	// at once (conmon, containerd-shim, an init): wait a bounded time.
	var info unix.PidfdInfo
	for deadline := time.Now().Add(exitWait); ; time.Sleep(5 * time.Millisecond) {
		info = unix.PidfdInfo{Mask: unix.PIDFD_INFO_EXIT}
		err := unix.IoctlPidfdInfo(e.pidfd, &info)
		switch {
		case err == nil && info.Mask&unix.PIDFD_INFO_EXIT != 0:
		case err == nil && info.Supported_mask != 0 && info.Supported_mask&unix.PIDFD_INFO_EXIT == 0,
			err != nil && !errors.Is(err, unix.ESRCH),
			time.Now().After(deadline):
			return recording.Exit{}, false
		default:
			continue
		}
		break
	}
	ws := unix.WaitStatus(info.Exit_code)
	if ws.Signaled() {
		return recording.Exit{Code: 128 + int(ws.Signal()), Signal: unix.SignalName(ws.Signal())}, true
	}
	return recording.Exit{Code: ws.ExitStatus()}, true
}

// markStarted writes the time of the container's start into its recorder's
// lock file, which the recorder holds: the start of a container is when
// start is called, not when it was created.
func markStarted(id string) {
	f, err := os.OpenFile(lockPath(id), os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return // no recorder: nothing to tell
	}
	defer f.Close()
	f.WriteString(time.Now().UTC().Format(time.RFC3339Nano))
}

// startedAt reads the time markStarted wrote into lock, or returns def.
func startedAt(lock *os.File, def time.Time) time.Time {
	b := make([]byte, 64)
	n, _ := lock.ReadAt(b, 0)
	first, _, _ := strings.Cut(string(b[:n]), "\n") // then markStopped's
	if t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(first)); err == nil {
		return t
	}
	return def
}

// setExit records the entrypoint's exit in rec, with a note when it is
// unknown, and flags a container whose entrypoint failed within its first
// second (started is when the container was started, ended when its
// cgroup emptied).
func setExit(rec *recording.Recording, ep *entrypoint, started, ended time.Time) {
	ex, ok := ep.exit()
	if !ok {
		rec.Exit = recording.Exit{Code: -1}
		rec.Notes = append(rec.Notes, "the exit status of the container's entrypoint is unknown (exit code -1): "+
			"the kernel gives it to a process that is not the entrypoint's parent from Linux 6.15 on (PIDFD_INFO_EXIT)")
		return
	}
	rec.Exit = ex
	if life := ended.Sub(started); ex.Code != 0 && life < earlyExit {
		how := fmt.Sprintf("with status %d", ex.Code)
		if ex.Signal != "" {
			how = "killed by " + ex.Signal
		}
		rec.Notes = append(rec.Notes, fmt.Sprintf("the container's entrypoint exited %s %v after the container started: "+
			"this records a failed start, not the service at work", how, life.Round(time.Millisecond)))
	}
}
