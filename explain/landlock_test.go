package explain

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestExplainLandlock: a ruleset is told from a seccomp profile by its
// content; the report says what is readable, writable, executable and
// which ports, and warns about a writable directory that is executable,
// / readable and /proc writable.
func TestExplainLandlock(t *testing.T) {
	data := []byte(`{"ruleset": [{"handledAccessFs": ["abi.all"], "handledAccessNet": ["bind_tcp"]}], "abi": 7,
 "pathBeneath": [
  {"allowedAccess": ["read_file", "read_dir"], "parent": ["/"]},
  {"allowedAccess": ["execute", "read_file", "make_reg", "write_file"], "parent": ["/srv/app"]},
  {"allowedAccess": ["write_file"], "parent": ["/proc/sys/kernel"]}],
 "netPort": [{"allowedAccess": ["bind_tcp"], "port": [8080]}]}`)
	r, err := Explain(data)
	if err != nil {
		t.Fatal(err)
	}
	if r.Kind != KindLandlock || r.Landlock == nil {
		t.Fatalf("kind %s", r.Kind)
	}
	l := r.Landlock
	if len(l.Readable) != 2 || len(l.Writable) != 2 || len(l.Executable) != 1 || l.Executable[0].Path != "/srv/app" {
		t.Errorf("readable %v writable %v executable %v", l.Readable, l.Writable, l.Executable)
	}
	if len(l.Bind) != 1 || l.Bind[0] != 8080 || l.Connect != nil {
		t.Errorf("bind %v connect %v", l.Bind, l.Connect)
	}
	warnings := strings.Join(l.Warnings, "\n")
	for _, want := range []string{
		"/srv/app is writable (write_file,make_reg) and /srv/app executable",
		"/ is readable",
		"/proc/sys/kernel is writable (write_file)",
		"TCP is not fully restricted: connect_tcp unhandled",
	} {
		if !strings.Contains(warnings, want) {
			t.Errorf("warnings lack %q:\n%s", want, warnings)
		}
	}
	var text, js bytes.Buffer
	r.File = "ruleset.json"
	if err := WriteText(&text, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "ruleset.json: Landlock ruleset, enforced in full from Linux 6.10 (Landlock ABI 5)") || !strings.Contains(text.String(), "connect: any TCP port (not restricted)") {
		t.Errorf("text:\n%s", text.String())
	}
	if err := WriteJSON(&js, r); err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back["kind"] != "landlock" || back["readable"] == nil || back["defaultAction"] != nil {
		t.Errorf("json: %v\n%s", err, js.String())
	}
	if _, err := Explain([]byte(`{"pathBeneath": [{"allowedAccess": ["read_everything"], "parent": ["/"]}]}`)); err == nil {
		t.Error("a bad ruleset explained")
	}
}
