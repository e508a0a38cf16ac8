package replay

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/profgen/profgen/landlock"
	"github.com/profgen/profgen/recording"
)

// TestLiveLandlock: live replay under a Landlock ruleset names each
// access the ruleset denied, from Landlock's audit records: the process,
// the path or port and the right; what the ruleset allows is not named.
func TestLiveLandlock(t *testing.T) {
	_, ok := okDir(t)
	sh, err := os.ReadFile("/usr/bin/dash")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ok, "sh"), sh, 0o755); err != nil {
		t.Fatal(err)
	}
	r, err := landlock.ParseConfig([]byte(`{"abi": 6,
 "ruleset": [{"handledAccessFs": ["abi.all"], "handledAccessNet": ["abi.all"], "scoped": ["abi.all"]}],
 "pathBeneath": [
  {"allowedAccess": ["abi.read_execute"], "parent": ["/usr", "/etc/ld.so.cache"]},
  {"allowedAccess": ["read_file", "read_dir"], "parent": ["` + ok + `"]},
  {"allowedAccess": ["write_file"], "parent": ["/dev/null"]}],
 "netPort": [{"allowedAccess": ["bind_tcp"], "port": [39876]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	py := func(code string) string {
		return fmt.Sprintf("/usr/bin/python3 -S -c \"import socket; %s\" 2>/dev/null", code)
	}
	script := strings.Join([]string{
		"cat " + filepath.Join(ok, "f") + " >/dev/null",
		"cat /etc/shadow 2>/dev/null",
		"touch " + filepath.Join(ok, "new") + " 2>/dev/null",
		filepath.Join(ok, "sh") + " -c true 2>/dev/null",
		py("socket.socket().bind(('127.0.0.1', 39876))"),
		py("socket.socket().bind(('127.0.0.1', 39877))"),
		py("socket.create_connection(('127.0.0.1', 39878))"),
		"true",
	}, "; ")
	var out strings.Builder
	rep, err := Live(context.Background(), LiveOptions{
		Command: []string{"/bin/sh", "-c", script}, Runtime: RuntimeNone,
		Landlock: r, Stdout: &out, Stderr: &out,
	})
	if err != nil {
		t.Fatalf("Live: %v (output %q)", err, out.String())
	}
	got := deniedBy(t, rep)
	want := map[string]string{
		"read_file /etc/shadow": "cat",
		"make_reg " + ok:        "touch",
		"execute " + ok + "/sh": "sh",
		"bind_tcp 39877":        "python3",
		"connect_tcp 39878":     "python3",
	}
	for k, comm := range want {
		if got[k] != comm {
			t.Errorf("denial %q by %q not named (got %q)", k, comm, got[k])
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Logf("also denied: %s by %s", k, got[k])
		}
		if strings.HasSuffix(k, "/ok/f") || strings.HasSuffix(k, " 39876") {
			t.Errorf("an allowed access was named: %s", k)
		}
	}
	if rep.OK() || rep.Verdict() != Fail || len(rep.Violations) != 0 {
		t.Errorf("verdict %s, seccomp violations %v", rep.Verdict(), rep.Violations)
	}
	var text strings.Builder
	rep.WriteText(&text)
	if !strings.Contains(text.String(), "read_file        /etc/shadow") && !strings.Contains(text.String(), "/etc/shadow") {
		t.Errorf("text report lacks /etc/shadow:\n%s", text.String())
	}
	t.Logf("report:\n%s", text.String())
}

// okDir returns a temporary directory and its subdirectory ok, holding
// the file f.
func okDir(t *testing.T) (dir, ok string) {
	t.Helper()
	dir = t.TempDir()
	ok = filepath.Join(dir, "ok")
	if err := os.Mkdir(ok, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ok, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, ok
}

// deniedBy returns the process name of each Landlock violation of rep by
// "ACCESS PATH" or "ACCESS PORT"; a violation without its process or
// count is an error.
func deniedBy(t *testing.T, rep *Report) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, v := range rep.Landlock {
		what := v.Path
		if v.Port != 0 {
			what = fmt.Sprint(v.Port)
		}
		got[v.Access+" "+what] = v.Comm
		if v.Pid == 0 || v.Exe == "" || v.Count == 0 {
			t.Errorf("violation without its process or count: %+v", v)
		}
	}
	return got
}

// TestStaticLandlock: every successful recorded access and port is
// checked against the ruleset as the kernel checks it; what it lacks is
// named, failed probes are not checked.
func TestStaticLandlock(t *testing.T) {
	sec := &recording.Landlock{
		Accesses: []recording.LandlockAccess{
			{Path: "/etc/shadow", Right: "read_file", OK: 1, Seen: 1},
			{Path: "/nope", Right: "read_file", Failed: 2, Seen: 1},
			{Path: "/srv/www/index.html", Right: "read_file", OK: 3, Seen: 1},
			{Path: "/srv/www/new", Right: "make_reg", OK: 1, Seen: 1},
		},
		TCPBind:    []recording.LandlockPort{{Port: 8080, Count: 1, Seen: 1}, {Port: 9090, Count: 1, Seen: 1}},
		TCPConnect: []recording.LandlockPort{{Port: 5432, Count: 2, Seen: 1}},
	}
	sec.Normalize()
	raw, err := json.Marshal(sec)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recording.Recording{Sections: map[string]json.RawMessage{recording.LandlockKind: raw}}
	r, err := landlock.ParseConfig([]byte(`{"ruleset": [{"handledAccessFs": ["read_file", "make_reg"], "handledAccessNet": ["bind_tcp", "connect_tcp"]}],
 "pathBeneath": [{"allowedAccess": ["read_file"], "parent": ["/srv/www"]}],
 "netPort": [{"allowedAccess": ["bind_tcp"], "port": [8080]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := StaticLandlock(r, rec)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range rep.Landlock {
		got = append(got, fmt.Sprintf("%s %s %d x%d", v.Access, v.Path, v.Port, v.Count))
	}
	want := "bind_tcp  9090 x1; connect_tcp  5432 x2; make_reg /srv/www 0 x1; read_file /etc/shadow 0 x1"
	if strings.Join(got, "; ") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(got, "; "), want)
	}
	if rep.Checked != 6 || rep.OK() {
		t.Errorf("checked %d, ok %v", rep.Checked, rep.OK())
	}
	if _, err := StaticLandlock(r, &recording.Recording{}); err == nil || !strings.Contains(err.Error(), "no landlock section") {
		t.Errorf("a recording without a section: %v", err)
	}
}
