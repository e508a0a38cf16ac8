package emit_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/profgen/profgen/emit"
	"github.com/profgen/profgen/landlock"
	"github.com/profgen/profgen/recording"
)

var updateLandlock = flag.Bool("update-landlock", false, "rewrite testdata/landlock.golden.json")

// landlockSchema compiles the vendored schema of Landlock's configuration
// format (testdata/landlockconfig/README.md).
func landlockSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open("testdata/landlockconfig/landlockconfig.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("landlockconfig.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("landlockconfig.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validate(t *testing.T, s *jsonschema.Schema, data []byte) error {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return s.Validate(doc)
}

// serverSection is the landlock section of a small web server: libraries,
// its config, the files it serves, a log it appends to, a pid file it
// creates in /run/app, port 8080.
func serverSection() *recording.Landlock {
	var as []recording.LandlockAccess
	add := func(p, right string) {
		as = append(as, recording.LandlockAccess{Path: p, Right: right, OK: 1, Seen: 1})
	}
	for _, l := range []string{"libc.so.6", "libssl.so.3", "libcrypto.so.3", "libz.so.1"} {
		add("/usr/lib/x86_64-linux-gnu/"+l, "read_file")
	}
	add("/etc/app/app.conf", "read_file")
	add("/srv/www", "read_dir")
	add("/srv/www/index.html", "read_file")
	add("/var/log/app.log", "write_file")
	add("/run/app", "make_dir")
	add("/run/app/app.pid", "make_reg")
	add("/run/app/app.pid", "write_file")
	add("/dev/null", "write_file")
	l := &recording.Landlock{Accesses: as, TCPBind: []recording.LandlockPort{{Port: 8080, Count: 1, Seen: 1}}}
	l.Normalize()
	return l
}

// TestLandlockFormat: emit --format landlock's output is valid against
// landlockconfig's schema, reads back as the same ruleset, and is the
// golden file.
func TestLandlockFormat(t *testing.T) {
	r, err := landlock.Learn(serverSection(), landlock.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f, ok := emit.LookupLandlockFormat("landlock")
	if !ok {
		t.Fatal("no landlock format")
	}
	var buf bytes.Buffer
	var warned []string
	if err := f.Write(&buf, r, emit.Options{Warn: func(s string) { warned = append(warned, s) }}); err != nil {
		t.Fatal(err)
	}
	s := landlockSchema(t)
	if err := validate(t, s, buf.Bytes()); err != nil {
		t.Fatalf("output is not valid against landlockconfig's schema: %v\n%s", err, buf.Bytes())
	}
	back, err := landlock.ParseConfig(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	r.Notes = nil
	for i := range r.Rules {
		r.Rules[i].Why = ""
	}
	if a, b := mustJSON(t, r), mustJSON(t, back); !bytes.Equal(a, b) {
		t.Errorf("read back\n%s\nwant\n%s", b, a)
	}
	golden := filepath.Join("testdata", "landlock.golden.json")
	if *updateLandlock {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("output differs from %s (-update-landlock rewrites it):\n%s", golden, buf.Bytes())
	}
	if err := f.Write(&bytes.Buffer{}, r, emit.Options{Incomplete: "INCOMPLETE"}); err == nil {
		t.Error("an incomplete mark was accepted")
	}
}

// TestLandlockSchemaRefuses: the schema test can fail: a document with a
// right the format does not know is invalid.
func TestLandlockSchemaRefuses(t *testing.T) {
	s := landlockSchema(t)
	bad := []byte(`{"ruleset":[{"handledAccessFs":["read_file"]}],"pathBeneath":[{"allowedAccess":["read_everything"],"parent":["/"]}]}`)
	if err := validate(t, s, bad); err == nil {
		t.Error("the schema accepted an unknown right")
	}
}

// TestLandlockExamples: profgen reads landlockconfig's own examples, and
// they are valid against the schema.
func TestLandlockExamples(t *testing.T) {
	s := landlockSchema(t)
	for _, name := range []string{"mini-write-tmp.json", "mini-scoped.json", "verbose-write-tmp.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", "landlockconfig", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := validate(t, s, data); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		r, err := landlock.ParseConfig(data)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		switch name {
		case "mini-write-tmp.json":
			// abi 5: abi.read_execute is execute, read_file, read_dir, refer.
			if ok, by := r.Allows("/usr/bin/ls", "execute"); !ok || by != "/usr" {
				t.Errorf("%s: execute /usr/bin/ls: %v %s", name, ok, by)
			}
			if ok, _ := r.Allows("/usr/bin/ls", "write_file"); ok {
				t.Errorf("%s: write /usr allowed", name)
			}
			if ok, _ := r.Allows("/tmp/x", "make_reg"); !ok {
				t.Errorf("%s: make_reg /tmp refused", name)
			}
			if !r.AllowsPort("bind_tcp", 443) || r.AllowsPort("bind_tcp", 8080) || !r.AllowsPort("connect_tcp", 1) {
				t.Errorf("%s: ports", name)
			}
		case "mini-scoped.json":
			if strings.Join(r.Scoped, ",") != "abstract_unix_socket,signal" {
				t.Errorf("%s: scoped %v", name, r.Scoped)
			}
		}
	}
	for _, bad := range []string{
		`{"variable":[{"name":"x","literal":["/a"]}]}`,
		`{"pathBeneath":[{"allowedAccess":["read_file"],"parent":["/etc"]}]}`,
		`{"ruleset":[{"handledAccessFs":["abi.all"]}]}`,
		`{"ruleset":[{"handledAccessFs":["read_file"]}],"pathBeneath":[{"allowedAccess":["read_file"],"parent":[""]}]}`,
		`{"ruleset":[{"handledAccessFs":["read_file"]}],"pathBeneath":[{"allowedAccess":["write_file"],"parent":["/etc"]}]}`,
	} {
		if _, err := landlock.ParseConfig([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}
