package landlock

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/profgen/profgen/recording"
)

// acc is one successful access of a synthetic section.
func acc(p, right string) recording.LandlockAccess {
	return recording.LandlockAccess{Path: p, Right: right, OK: 1, Seen: 1}
}

func section(accesses ...recording.LandlockAccess) *recording.Landlock {
	l := &recording.Landlock{Accesses: slices.Clone(accesses)}
	l.Normalize()
	return l
}

// rules renders a ruleset's rules one a line: "PATH RIGHT,RIGHT".
func rules(r *Ruleset) string {
	var b strings.Builder
	for _, rule := range r.Rules {
		b.WriteString(rule.Path + " " + strings.Join(rule.Rights, ",") + "\n")
	}
	return b.String()
}

func TestLearnRules(t *testing.T) {
	libs := []recording.LandlockAccess{}
	for _, l := range []string{"libc.so.6", "libssl.so.3", "libcrypto.so.3", "libz.so.1", "libpcre2-8.so.0"} {
		libs = append(libs, acc("/usr/lib/x86_64-linux-gnu/"+l, "read_file"))
	}
	for _, tc := range []struct {
		name string
		sec  *recording.Landlock
		want string
	}{
		{"few files of a directory stay exact", section(
			acc("/etc/redis/redis.conf", "read_file"), acc("/etc/passwd", "read_file")),
			"/etc/passwd read_file\n/etc/redis/redis.conf read_file\n"},
		{"many entries of one tree become the tree", section(libs...),
			"/usr/lib/x86_64-linux-gnu read_file,read_dir\n"},
		{"never a top-level directory, however much was read", section(
			acc("/etc/a", "read_file"), acc("/etc/b", "read_file"), acc("/etc/c", "read_file"), acc("/etc/d", "read_file"), acc("/etc/e", "read_file")),
			"/etc/a read_file\n/etc/b read_file\n/etc/c read_file\n/etc/d read_file\n/etc/e read_file\n"},
		{"never a directory of NoHierarchy", section(
			acc("/var/lib/a", "read_file"), acc("/var/lib/b", "read_file"), acc("/var/lib/c", "read_file"), acc("/var/lib/d", "read_file")),
			"/var/lib/a read_file\n/var/lib/b read_file\n/var/lib/c read_file\n/var/lib/d read_file\n"},
		{"a system tree read whole stays read-only when one file there was written", section(append(libs,
			acc("/usr/lib/x86_64-linux-gnu/libz.so.1", "write_file"))...),
			"/usr/lib/x86_64-linux-gnu read_file,read_dir\n/usr/lib/x86_64-linux-gnu/libz.so.1 write_file\n"},
		{"execute only where executed", section(
			acc("/usr/bin/env", "execute"), acc("/usr/bin/env", "read_file"), acc("/usr/bin/a", "read_file"), acc("/usr/bin/b", "read_file")),
			"/usr/bin/a read_file\n/usr/bin/b read_file\n/usr/bin/env execute,read_file\n"},
		{"execute of a hierarchy when many entries were executed", section(
			acc("/opt/app/bin/a", "execute"), acc("/opt/app/bin/b", "execute"), acc("/opt/app/bin/c", "execute"), acc("/opt/app/bin/d", "execute"),
			acc("/opt/app/bin/a", "read_file"), acc("/opt/app/bin/b", "read_file"), acc("/opt/app/bin/c", "read_file"), acc("/opt/app/bin/d", "read_file")),
			"/opt/app/bin execute,read_file,read_dir\n"},
		{"a directory the program created is granted on its parent", section(
			acc("/tmp/x", "make_dir"), acc("/tmp/x/f", "make_reg"), acc("/tmp/x/f", "write_file"), acc("/tmp/x/f", "remove_file"), acc("/tmp/x", "remove_dir")),
			"/tmp write_file,remove_dir,remove_file,make_dir,make_reg\n"},
		{"a directory that existed is granted alone, not /tmp", section(
			acc("/tmp/y/f", "make_reg"), acc("/tmp/y/f", "write_file"), acc("/tmp/y/g", "read_file")),
			"/tmp/y write_file,make_reg\n/tmp/y/g read_file\n"},
		{"write only where written: a file that existed", section(
			acc("/var/log/app.log", "write_file"), acc("/var/log/app.log", "read_file")),
			"/var/log/app.log write_file,read_file\n"},
		{"a removed file's right is on its directory", section(
			acc("/run/app/app.pid", "remove_file")),
			"/run/app remove_file\n"},
		{"the program's own /proc/PID is /proc", section(
			acc("/proc/1234/maps", "read_file"), acc("/proc/1234/status", "read_file")),
			"/proc read_file\n"},
		{"failed probes are not granted", section(
			recording.LandlockAccess{Path: "/etc/ld.so.preload", Right: "read_file", Failed: 1, Seen: 1}, acc("/etc/ld.so.cache", "read_file")),
			"/etc/ld.so.cache read_file\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Learn(tc.sec, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := rules(r); got != tc.want {
				t.Errorf("got\n%swant\n%s", got, tc.want)
			}
		})
	}
}

// TestLearnWholeTree: / only when the program listed / and read beneath
// many top-level directories, and then a note says so.
func TestLearnWholeTree(t *testing.T) {
	var as []recording.LandlockAccess
	for _, d := range []string{"bin", "boot", "etc", "home", "lib", "media", "mnt", "opt", "root", "srv", "usr", "var"} {
		as = append(as, acc("/"+d+"/f", "read_file"))
	}
	r, err := Learn(section(as...), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(rules(r), "/ ") {
		t.Errorf("/ granted without a listing of /:\n%s", rules(r))
	}
	r, err = Learn(section(append(as, acc("/", "read_dir"))...), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := rules(r); got != "/ read_file,read_dir\n" {
		t.Errorf("got\n%s", got)
	}
	if !strings.Contains(strings.Join(r.Notes, "\n"), "read beneath / (everything readable") {
		t.Errorf("no note: %q", r.Notes)
	}
}

func TestLearnPortsScopesNotes(t *testing.T) {
	sec := section(acc("/srv/www/index.html", "read_file"),
		recording.LandlockAccess{Path: "/nope", Right: "read_file", Failed: 3, Seen: 1})
	sec.TCPBind = []recording.LandlockPort{{Port: 8080, Count: 1, Seen: 1}}
	sec.TCPConnect = []recording.LandlockPort{{Port: 5432, Count: 2, Seen: 1}}
	sec.SignalsOutside = 1
	sec.Unresolved = []recording.LandlockUnresolved{{Syscall: "openat", Reason: "path too long", Count: 2}}
	r, err := Learn(sec, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Bind) != 1 || r.Bind[0] != 8080 || len(r.Connect) != 1 || r.Connect[0] != 5432 {
		t.Errorf("ports: bind %v connect %v", r.Bind, r.Connect)
	}
	if strings.Join(r.Scoped, ",") != "abstract_unix_socket" {
		t.Errorf("scoped %v", r.Scoped)
	}
	notes := strings.Join(r.Notes, "\n")
	for _, want := range []string{"signals are not scoped", "3 failed accesses not granted (read_file 3)", "2 accesses of openat not resolved (path too long)"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	if !r.AllowsPort("bind_tcp", 8080) || r.AllowsPort("bind_tcp", 8081) || r.AllowsPort("connect_tcp", 8080) {
		t.Error("AllowsPort")
	}
	if ok, by := r.Allows("/srv/www/index.html", "read_file"); !ok || by != "/srv/www/index.html" {
		t.Errorf("Allows index.html: %v %s", ok, by)
	}
	if ok, _ := r.Allows("/etc/shadow", "read_file"); ok {
		t.Error("Allows /etc/shadow")
	}
}

// TestLearnMerged: Learn of a merged recording unites the hierarchies of
// its inputs.
func TestLearnMerged(t *testing.T) {
	var raws []json.RawMessage
	for _, s := range []*recording.Landlock{
		section(acc("/srv/a/1", "read_file"), acc("/srv/a/2", "read_file")),
		section(acc("/srv/a/3", "read_file"), acc("/srv/a/4", "read_file"), acc("/srv/b", "read_file")),
	} {
		raw, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		raws = append(raws, raw)
	}
	raw, err := recording.SectionKinds[recording.LandlockKind].Merge(raws)
	if err != nil {
		t.Fatal(err)
	}
	merged, err := recording.ParseLandlock(raw)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Learn(merged, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := rules(r); got != "/srv/a read_file,read_dir\n/srv/b read_file\n" {
		t.Errorf("got\n%s", got)
	}
}

// TestLearnReachNote: a directory made writable by creation (a pid file)
// that holds a directory the program only read (the served tree) gets a
// note naming both; one whose subdirectories the program changed too, or
// a read-only rule, gets none.
func TestLearnReachNote(t *testing.T) {
	sec := section(
		acc("/srv/app.pid", "make_reg"), acc("/srv/app.pid", "write_file"),
		acc("/srv/www/index.html", "read_file"), acc("/srv/tmp/body/1", "make_reg"),
		acc("/etc/app.conf", "read_file"),
	)
	r, err := Learn(sec, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range r.Notes {
		if strings.Contains(n, "reaches") {
			got = append(got, n)
		}
	}
	want := "write_file,make_reg granted beneath /srv reaches /srv/www, where the program only read"
	if len(got) != 1 || !strings.HasPrefix(got[0], want) {
		t.Errorf("notes %q, want one starting %q\nrules:\n%s", r.Notes, want, rules(r))
	}
}
