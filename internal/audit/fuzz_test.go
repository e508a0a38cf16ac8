package audit

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParse: any payload either parses into a record or fails with
// ErrMalformed; it never panics, and a parsed record's time stamp is
// SECONDS.MILLISECONDS (testdata/fuzz/FuzzParse/be711bfe4a1db87c: a stamp
// of a control character was taken as it was).
func FuzzParse(f *testing.F) {
	f.Add([]byte(`audit(1764200000.123:456): auid=0 uid=0 gid=0 ses=3 subj=unconfined pid=123 comm="cat" exe="/usr/bin/cat" sig=0 arch=c000003e syscall=0 compat=0 ip=0x7f0000001234 code=0x7ffc0000`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		rec, err := Parse(payload)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
			return
		}
		if rec.Time != "" {
			sec, ms, ok := strings.Cut(rec.Time, ".")
			if !ok || !allDigits([]byte(sec)) || !allDigits([]byte(ms)) {
				t.Fatalf("time stamp %q is not SECONDS.MILLISECONDS", rec.Time)
			}
		}
	})
}

// TestParseBadStamp: a record whose audit( stamp is not
// SECONDS.MILLISECONDS:SERIAL is malformed (found by FuzzParse).
func TestParseBadStamp(t *testing.T) {
	for _, stamp := range []string{"\f", "1.2", "1.2:x", "x.1:3", "1:3", ".1:3"} {
		_, err := Parse([]byte("audit(" + stamp + "): ses=0 pid=1 arch=c000003e syscall=0"))
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("stamp %q: %v, want ErrMalformed", stamp, err)
		}
	}
	rec, err := Parse([]byte("audit(1764200000.123:456): ses=0 pid=1 arch=c000003e syscall=0"))
	if err != nil || rec.Time != "1764200000.123" || rec.Serial != 456 {
		t.Errorf("good stamp: %+v, %v", rec, err)
	}
}
