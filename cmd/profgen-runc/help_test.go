package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestHelp: --help, -h and help print the wrapper's own flags and the
// annotations it reads, then the real runtime's help, and exit 0.
func TestHelp(t *testing.T) {
	bin := wrapperBin(t)
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"--root", "/tmp", "--help"}} {
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			t.Errorf("profgen-runc %q: %v\n%s", args, err, out)
			continue
		}
		for _, o := range append(append([]option(nil), wrapperFlags...), annotations...) {
			name, _, _ := strings.Cut(o.name, " ")
			name, _, _ = strings.Cut(name, "=")
			if !strings.Contains(string(out), name) {
				t.Errorf("profgen-runc %q does not name %s:\n%s", args, name, out)
			}
		}
		if !strings.Contains(string(out), "runc - Open Container Initiative runtime") {
			t.Errorf("profgen-runc %q: no runc help after the wrapper's:\n%s", args, out)
		}
	}
}

// TestDocsOptions: docs/containers.md names each of the wrapper's flags
// and annotations.
func TestDocsOptions(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "containers.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range append(append([]option(nil), wrapperFlags...), annotations...) {
		name, _, _ := strings.Cut(o.name, " ")
		name, _, _ = strings.Cut(name, "=")
		if !strings.Contains(string(data), "`"+name) {
			t.Errorf("docs/containers.md does not name %s", name)
		}
	}
}

// TestRecordingLogLine: when a recording starts, the wrapper logs one line
// to the runtime's --log file in its --log-format (json as runc writes
// it, and text), naming the container and the recording's file.
func TestRecordingLogLine(t *testing.T) {
	for _, format := range []string{"json", "text"} {
		t.Run(format, func(t *testing.T) {
			b := newRuncBundle(t, "1")
			w := newDirectWrapper(t)
			id := "profgen-log-" + format + "-" + filepath.Base(t.TempDir())
			log := filepath.Join(t.TempDir(), "runtime.log")
			if out, err := w.run("--log", log, "--log-format", format, "create", "--bundle", b.Dir, id); err != nil {
				t.Fatalf("create: %v\n%s", err, out)
			}
			defer w.run("delete", "--force", id)
			data, err := os.ReadFile(log)
			if err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf("profgen-runc: recording container %s to %s", id, filepath.Join(w.dir, id+".json"))
			var lines []string
			for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
				if strings.Contains(l, "profgen-runc") {
					lines = append(lines, l)
				}
			}
			if len(lines) != 1 {
				t.Fatalf("%d profgen-runc lines in the log, want one:\n%s", len(lines), data)
			}
			if format == "json" {
				var e struct{ Level, Msg, Time string }
				if err := json.Unmarshal([]byte(lines[0]), &e); err != nil || e.Level != "info" || e.Msg != want || e.Time == "" {
					t.Errorf("log line %s: %v; want level info, msg %q, a time", lines[0], err, want)
				}
			} else if !regexp.MustCompile(`^time="[^"]+" level=info msg="` + regexp.QuoteMeta(want) + `"$`).MatchString(lines[0]) {
				t.Errorf("log line %s, want level=info msg=%q", lines[0], want)
			}
		})
	}
}
