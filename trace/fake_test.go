package trace

import (
	"bufio"
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/internal/proc"
	"github.com/profgen/profgen/recording"
)

// fakeBackend is a Backend of pure logic: it observes nothing and returns
// the observations it was given. With it the session's state machine and
// the building of a recording are tested without root or eBPF (the target
// runs in process-tree mode, Options.NoCgroup).
type fakeBackend struct {
	mu       sync.Mutex
	obs      Observations
	startErr error
	masks    ArgMasks
	pid      int
	prepared bool
	closed   bool
}

var (
	_ ArgCapturer     = (*fakeBackend)(nil)
	_ DistinctCounter = (*fakeBackend)(nil)
)

func (f *fakeBackend) Name() recording.BackendName { return "fake" }

func (f *fakeBackend) CaptureArgs(m ArgMasks) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.masks = m
	return nil
}

func (f *fakeBackend) Prepare(t *Target) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return os.ErrClosed
	}
	f.prepared = true
	return nil
}

func (f *fakeBackend) Start(pid int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pid = pid
	return f.startErr
}

func (f *fakeBackend) Events() uint64 { return 0 }
func (f *fakeBackend) Distinct() int  { return len(f.obs.Counts) }

func (f *fakeBackend) Collect() (*Observations, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	obs := f.obs
	if obs.Scope == "" {
		obs.Scope = recording.ScopeProcessTree
	}
	return &obs, nil
}

func (f *fakeBackend) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	return nil
}

// stubborn is a target that ignores SIGTERM (it and the sleeps it starts)
// and says "ready" on its standard output once it does.
const stubborn = `trap "" TERM; echo ready; while :; do sleep 1; done`

// recordFake records command under a fake backend in process-tree mode.
// When signals is not nil, each of them is sent once the target printed
// "ready".
func recordFake(t *testing.T, f *fakeBackend, opts Options, signals ...os.Signal) *Result {
	t.Helper()
	opts.Backend = f
	opts.NoCgroup = true
	opts.Stderr = os.Stderr
	opts.Tool = "profgen test"
	sigs := make(chan os.Signal, len(signals))
	opts.Signals = sigs
	if len(signals) > 0 {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		opts.Stdout = w
		go func() {
			line, _ := bufio.NewReader(r).ReadString('\n')
			if line == "ready\n" {
				for _, s := range signals {
					sigs <- s
				}
			}
		}()
		defer w.Close()
	}
	res, err := Record(context.Background(), opts)
	if err != nil {
		t.Fatalf("Record %q: %v", opts.Command, err)
	}
	if f.closed {
		t.Error("Record closed the backend: its creator closes it")
	}
	if err := res.Recording.Validate(); err != nil {
		t.Errorf("recording does not validate: %v", err)
	}
	if pids := proc.Descendants(f.pid); len(pids) > 0 || unix.Kill(f.pid, 0) == nil {
		t.Errorf("processes of the target are left: %d and %v", f.pid, pids)
	}
	return res
}

// TestSessionGraceThenKill: a target that ignores SIGTERM gets it, then,
// once the grace period is over, SIGKILL.
func TestSessionGraceThenKill(t *testing.T) {
	res := recordFake(t, &fakeBackend{}, Options{Command: []string{"/bin/sh", "-c", stubborn}, Grace: 100 * time.Millisecond}, syscall.SIGTERM)
	rec := res.Recording
	if res.ExitCode != 128+9 || rec.Exit.Signal != "SIGKILL" || !rec.Interrupted {
		t.Errorf("exit %d (%+v), interrupted %v; want 137 (SIGKILL), interrupted", res.ExitCode, rec.Exit, rec.Interrupted)
	}
}

// TestSessionSecondSignal: a second signal kills the tree at once, without
// waiting for the grace period (an hour here).
func TestSessionSecondSignal(t *testing.T) {
	res := recordFake(t, &fakeBackend{}, Options{Command: []string{"/bin/sh", "-c", stubborn}, Grace: time.Hour}, syscall.SIGTERM, syscall.SIGINT)
	if rec := res.Recording; res.ExitCode != 128+9 || rec.Exit.Signal != "SIGKILL" || !rec.Interrupted {
		t.Errorf("exit %d (%+v), interrupted %v; want 137 (SIGKILL), interrupted", res.ExitCode, rec.Exit, rec.Interrupted)
	}
}

// TestSessionSignalPassedOn: the first signal reaches the target, which
// exits of it; the recording is marked interrupted.
func TestSessionSignalPassedOn(t *testing.T) {
	res := recordFake(t, &fakeBackend{}, Options{Command: []string{"/bin/sh", "-c", "echo ready; while :; do sleep 1; done"}, Grace: time.Hour}, syscall.SIGTERM)
	if rec := res.Recording; res.ExitCode != 128+15 || rec.Exit.Signal != "SIGTERM" || !rec.Interrupted {
		t.Errorf("exit %d (%+v), interrupted %v; want 143 (SIGTERM), interrupted", res.ExitCode, rec.Exit, rec.Interrupted)
	}
}

// TestSessionDuration: at Duration the tree is stopped with SIGTERM; that
// is the end that was asked for: exit 0, not interrupted, Limited, and the
// recording keeps the status the stop gave the target.
func TestSessionDuration(t *testing.T) {
	res := recordFake(t, &fakeBackend{}, Options{Command: []string{"sleep", "1000"}, Duration: 50 * time.Millisecond})
	if rec := res.Recording; res.ExitCode != 0 || rec.Interrupted || !res.Limited || rec.Exit.Signal != "SIGTERM" {
		t.Errorf("exit %d (%+v), interrupted %v, limited %v; want 0 (recorded SIGTERM), not interrupted, limited", res.ExitCode, rec.Exit, rec.Interrupted, res.Limited)
	}
}

// TestSessionFailingDriver: a driver that fails fails the recording with
// its status; the target is stopped and the recording still returned, not
// marked interrupted.
func TestSessionFailingDriver(t *testing.T) {
	res := recordFake(t, &fakeBackend{}, Options{Command: []string{"sleep", "1000"}, Drive: "exit 3"})
	if res.DriverErr == nil || !strings.Contains(res.DriverErr.Error(), "exit 3") {
		t.Errorf("DriverErr = %v, want the driver's failure", res.DriverErr)
	}
	if res.ExitCode != 3 {
		t.Errorf("exit code %d, want the driver's 3", res.ExitCode)
	}
	if rec := res.Recording; rec.Interrupted || rec.Exit.Code != 128+15 {
		t.Errorf("target exit %+v, interrupted %v; want stopped by SIGTERM, not interrupted", rec.Exit, rec.Interrupted)
	}
}

// TestSessionBackendStartFails: a backend whose Start fails fails Record
// naming it, and the target that was already started is gone.
func TestSessionBackendStartFails(t *testing.T) {
	f := &fakeBackend{startErr: errors.New("no luck")}
	_, err := Record(context.Background(), Options{Command: []string{"sleep", "1000"}, Backend: f, NoCgroup: true})
	if err == nil || err.Error() != "start fake backend: no luck" {
		t.Fatalf("err = %v", err)
	}
	if f.pid == 0 || unix.Kill(f.pid, 0) == nil {
		t.Errorf("target %d still runs", f.pid)
	}
}

// TestSessionBuildsRecording: the observations of a backend become the
// recording: names from numbers, argument shapes through the masks
// CaptureArgs was given, unknown numbers and lost events in the notes.
func TestSessionBuildsRecording(t *testing.T) {
	arch, err := abi.Native()
	if err != nil {
		t.Fatal(err)
	}
	getpid, _ := abi.SyscallNumber(arch, "getpid")
	socket, _ := abi.SyscallNumber(arch, "socket")
	f := &fakeBackend{obs: Observations{
		Counts: map[Key]uint64{
			{Nr: uint32(getpid)}: 5,
			{Nr: uint32(socket), Args: [6]uint64{unix.AF_INET}}:  2,
			{Nr: uint32(socket), Args: [6]uint64{unix.AF_INET6}}: 1,
			{Nr: 5000}: 7,
		},
		Lost:      3,
		ArgShapes: true,
		Notes:     []string{"from the fake"},
	}}
	res := recordFake(t, f, Options{Command: []string{"true"}})
	if f.masks == nil || f.masks[socket][0] == 0 {
		t.Errorf("CaptureArgs got %v: no mask for socket's family", f.masks)
	}
	rec := res.Recording
	if rec.Backend != "fake" || rec.Scope != recording.ScopeProcessTree || rec.Lost != 3 || !rec.ArgShapes || rec.Inputs != 1 {
		t.Errorf("recording header %+v", rec)
	}
	if s := rec.Lookup("getpid"); s == nil || s.Count != 5 || s.Seen != 1 {
		t.Errorf("getpid: %+v", s)
	}
	s := rec.Lookup("socket")
	if s == nil || s.Count != 3 || len(s.Shapes) != 2 || len(s.Args) == 0 || s.Args[0].Index != 0 {
		t.Fatalf("socket: %+v", s)
	}
	if s.Shapes[0].Values[0] != unix.AF_INET || s.Shapes[0].Count != 2 || s.Shapes[1].Values[0] != unix.AF_INET6 {
		t.Errorf("socket shapes %+v", s.Shapes)
	}
	notes := strings.Join(rec.Notes, "\n")
	for _, want := range []string{"from the fake", "cannot name", "5000", "3 syscall events were lost"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes do not say %q:\n%s", want, notes)
		}
	}
	if !slices.ContainsFunc(res.Warnings, func(w string) bool { return strings.Contains(w, "lost") }) {
		t.Errorf("warnings %q do not report the lost events", res.Warnings)
	}
}
