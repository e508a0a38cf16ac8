package recording

import (
	"encoding/json"
	"strings"
	"testing"
)

func landlockSection(t *testing.T, l *Landlock) json.RawMessage {
	t.Helper()
	l.Normalize()
	raw, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestLandlockSection: a recording carries a Landlock section that reads
// back, and a merge unites the accesses and ports of its inputs in any
// order.
func TestLandlockSection(t *testing.T) {
	a := sample()
	a.Sections = map[string]json.RawMessage{LandlockKind: landlockSection(t, &Landlock{
		Accesses: []LandlockAccess{
			{Path: "/etc/hosts", Right: "read_file", Type: FileReg, OK: 2, Seen: 1, Evidence: Evidence{Exes: []string{"/usr/bin/a"}}},
			{Path: "/tmp/x", Right: "make_reg", Type: FileDir, OK: 1, Seen: 1},
		},
		TCPBind: []LandlockPort{{Port: 8080, Count: 1, Seen: 1}},
	})}
	b := sample()
	b.Sections = map[string]json.RawMessage{LandlockKind: landlockSection(t, &Landlock{
		Accesses:   []LandlockAccess{{Path: "/etc/hosts", Right: "read_file", Type: FileReg, OK: 1, Failed: 1, Seen: 1, Evidence: Evidence{Exes: []string{"/usr/bin/b"}}}},
		TCPConnect: []LandlockPort{{Port: 6379, Count: 3, Seen: 1}},
		Unresolved: []LandlockUnresolved{{Syscall: "openat", Reason: "file gone", Count: 1}},
	})}
	if _, err := Parse(encode(t, a)); err != nil {
		t.Fatal(err)
	}
	ab, err := Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	ba, err := Merge(b, a)
	if err != nil {
		t.Fatal(err)
	}
	if string(encode(t, ab)) != string(encode(t, ba)) {
		t.Error("the merge of Landlock sections depends on the order of its inputs")
	}
	l, err := ParseLandlock(ab.Sections[LandlockKind])
	if err != nil {
		t.Fatal(err)
	}
	h := l.Accesses[0]
	if len(l.Accesses) != 2 || h.Path != "/etc/hosts" || h.OK != 3 || h.Failed != 1 || h.Seen != 2 || len(h.Exes) != 2 {
		t.Errorf("merged accesses %+v", l.Accesses)
	}
	if len(l.TCPBind) != 1 || len(l.TCPConnect) != 1 || len(l.Unresolved) != 1 {
		t.Errorf("merged ports %+v %+v, unresolved %+v", l.TCPBind, l.TCPConnect, l.Unresolved)
	}
	for _, tc := range []struct{ bad, want string }{
		{`{"accesses":[{"path":"etc/x","right":"read_file","ok":1,"seen":1}]}`, "not absolute"},
		{`{"accesses":[{"path":"/a/../b","right":"read_file","ok":1,"seen":1}]}`, "not absolute and clean"},
		{`{"accesses":[{"path":"/x","right":"fly","ok":1,"seen":1}]}`, "unknown right"},
		{`{"accesses":[{"path":"/x","right":"read_file","ok":0,"seen":1}]}`, "no call counted"},
		{`{"accesses":[{"path":"/y","right":"read_file","ok":1,"seen":1},{"path":"/x","right":"read_file","ok":1,"seen":1}]}`, "not sorted"},
		{`{"accesses":[],"tcpBind":[{"port":2,"count":1,"seen":1},{"port":1,"count":1,"seen":1}]}`, "not sorted"},
		{`{"accesses":[],"extra":1}`, "unknown field"},
	} {
		if _, err := ParseLandlock(json.RawMessage(tc.bad)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.bad, err, tc.want)
		}
	}
}
