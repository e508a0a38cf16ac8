package explain

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/profgen/profgen/internal/abi"
)

// phasedRecording is a server's recording made with --ready: socket,
// bind, listen, ptrace (dangerous) and execve in start-up, accept4 and
// write while serving, read in both.
const phasedRecording = `{
  "version": 3, "tool": "profgen test", "kernel": "6.18.0", "arch": "amd64",
  "backend": "ebpf", "scope": "cgroup", "command": ["/srv/server"],
  "start": "2026-11-26T12:00:00Z", "end": "2026-11-26T12:00:05Z",
  "exit": {"code": 0}, "interrupted": false, "lost": 0, "argShapes": false,
  "inputs": 1, "readyAtMs": 120,
  "syscalls": [
    {"name": "accept4", "number": 288, "count": 4, "seen": 1, "exes": ["/srv/server"], "firstSeenMs": 130, "phases": {"serving": 4}},
    {"name": "bind", "number": 49, "count": 1, "seen": 1, "exes": ["/srv/server"], "firstSeenMs": 101, "phases": {"startup": 1}},
    {"name": "execve", "number": 59, "count": 1, "seen": 1, "firstSeenMs": 0, "phases": {"startup": 1}},
    {"name": "listen", "number": 50, "count": 1, "seen": 1, "exes": ["/srv/server"], "firstSeenMs": 102, "phases": {"startup": 1}},
    {"name": "ptrace", "number": 101, "count": 1, "seen": 1, "exes": ["/srv/helper"], "otherExes": 2, "firstSeenMs": 40, "phases": {"startup": 1}},
    {"name": "read", "number": 0, "count": 10, "seen": 1, "exes": ["/srv/server"], "firstSeenMs": 3, "phases": {"startup": 2, "serving": 8}},
    {"name": "socket", "number": 41, "count": 1, "seen": 1, "exes": ["/srv/server"], "firstSeenMs": 100, "phases": {"startup": 1}},
    {"name": "write", "number": 1, "count": 4, "seen": 1, "exes": ["/srv/server"], "firstSeenMs": 131, "phases": {"serving": 4}}
  ]
}`

// TestExplainRecording: explain of a recording lists each recorded syscall
// with its evidence, counts what the learned profile allows, names the
// dangerous syscalls recorded, and says what the serving phase's filter
// drops (ptrace among them dangerous), in text and in JSON; a recording
// without phases says it has none.
func TestExplainRecording(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rec.json")
	if err := os.WriteFile(path, []byte(phasedRecording), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := File(path)
	if err != nil {
		t.Fatal(err)
	}
	if r.Kind != KindRecording || r.Recording == nil {
		t.Fatalf("kind %q, report %+v", r.Kind, r.Recording)
	}
	rr := r.Recording
	if len(rr.Syscalls) != 8 || rr.Allowed != 15 || names(rr.DangerousRecorded)[0] != "ptrace" {
		t.Errorf("syscalls %d, allowed %d, dangerous %v; want 8, 15 (the 7 recorded and 8 of the baseline), ptrace", len(rr.Syscalls), rr.Allowed, rr.DangerousRecorded)
	}
	if rr.Serving == nil || !slices.Equal(rr.Serving.Dropped, []string{"bind", "execve", "listen", "ptrace", "socket"}) ||
		len(rr.Serving.Dangerous) != 1 || rr.Serving.Dangerous[0].Name != "ptrace" || rr.Serving.ServingAllowed != 10 {
		t.Errorf("serving %+v; want bind, execve, listen, ptrace, socket dropped, ptrace dangerous, 10 left", rr.Serving)
	}
	var text bytes.Buffer
	if err := WriteText(&text, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"recording of /srv/server (ebpf backend, 1 run(s), amd64)",
		"ready at:         120ms",
		"  ptrace   1      40ms   startup 1             /srv/helper +2  yes",
		"  read     10     3ms    startup 2, serving 8  /srv/server     -",
		"serving: the serving phase's filter drops 5 of the 15 syscalls allowed (10 left): bind, execve, listen, ptrace, socket; dangerous among them: ptrace",
		"dangerous dropped while serving (1):\n  ptrace  reads and writes",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the text lacks %q:\n%s", want, text.String())
		}
	}
	var js bytes.Buffer
	if err := WriteJSON(&js, r); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Kind     string `json:"kind"`
		Syscalls []struct {
			Name        string            `json:"name"`
			Exes        []string          `json:"exes"`
			Phases      map[string]uint64 `json:"phases"`
			FirstSeenMs *int64            `json:"firstSeenMs"`
			Dangerous   string            `json:"dangerous"`
		} `json:"syscalls"`
		Serving struct {
			Dropped          []string `json:"dropped"`
			DangerousDropped []struct {
				Name string `json:"name"`
			} `json:"dangerousDropped"`
		} `json:"serving"`
	}
	if err := json.Unmarshal(js.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	p := got.Syscalls[4]
	if got.Kind != KindRecording || p.Name != "ptrace" || p.Exes[0] != "/srv/helper" || p.Phases["startup"] != 1 || *p.FirstSeenMs != 40 || p.Dangerous == "" ||
		len(got.Serving.Dropped) != 5 || got.Serving.DangerousDropped[0].Name != "ptrace" {
		t.Errorf("JSON:\n%s", js.String())
	}

	plain := strings.NewReplacer(`, "readyAtMs": 120`, "", `"startup"`, `"run"`, `"serving"`, `"run"`).Replace(phasedRecording)
	plain = strings.ReplaceAll(plain, `{"run": 2, "run": 8}`, `{"run": 10}`)
	if err := os.WriteFile(path, []byte(plain), 0o644); err != nil {
		t.Fatal(err)
	}
	if r, err = File(path); err != nil {
		t.Fatal(err)
	}
	text.Reset()
	if err := WriteText(&text, r); err != nil {
		t.Fatal(err)
	}
	if r.Recording.Serving != nil || !strings.Contains(text.String(), "serving: no phases") {
		t.Errorf("a recording without phases:\n%s", text.String())
	}
}

// TestExplainRecordingBad: a recording that does not parse is one error
// naming the file.
func TestExplainRecordingBad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.json")
	bad := strings.Replace(phasedRecording, `"count": 4, "seen": 1, "exes"`, `"count": "x", "seen": 1, "exes"`, 1)
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := File(path)
	if err == nil || !strings.Contains(err.Error(), "explain "+path+": ") || strings.Contains(err.Error(), "\n") {
		t.Errorf("bad recording: %v", err)
	}
}

// TestExplainOtherArch: a profile written for aarch64 only is judged on
// this x86_64 machine for aarch64 (its syscall table: openat is allowed,
// open, which aarch64 lacks, is noted and left out), and says so; a
// profile for architectures libseccomp does not know is one error.
func TestExplainOtherArch(t *testing.T) {
	if native, _ := abiNative(); native != "amd64" {
		t.Skipf("the test profile is for another architecture than amd64; this machine is %s", native)
	}
	r, err := Explain([]byte(`{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_AARCH64"],
		"syscalls": [{"names": ["openat", "open", "read", "ptrace"], "action": "SCMP_ACT_ALLOW"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if r.JudgedFor != "arm64" || !slices.Equal(r.Architectures, []string{"arm64"}) || !slices.Equal(r.Allowed, []string{"openat", "ptrace", "read"}) ||
		names(r.DangerousAllowed)[0] != "ptrace" || r.DockerDefaultAllowed != 0 {
		t.Errorf("judged for %q, architectures %v, allowed %v, dangerous %v, docker %d", r.JudgedFor, r.Architectures, r.Allowed, r.DangerousAllowed, r.DockerDefaultAllowed)
	}
	var text bytes.Buffer
	if err := WriteText(&text, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"judged for:       arm64 (the profile's architecture, not this machine's)", "3 of ", " arm64 syscalls allowed",
		"note: the profile is for SCMP_ARCH_AARCH64", "ignored 1 syscalls that do not exist on arm64: open"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the text lacks %q:\n%s", want, text.String())
		}
	}
	if _, err := Explain([]byte(`{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_PDP11"]}`)); err == nil || !strings.Contains(err.Error(), "none is known to this libseccomp") {
		t.Errorf("unknown architectures: %v", err)
	}
}

// abiNative is the machine's architecture.
func abiNative() (string, error) {
	a, err := abi.Native()
	return string(a), err
}
