package audit

import (
	"bufio"
	"encoding/binary"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/errs"
)

func TestParseCapturedRecords(t *testing.T) {
	f, err := os.Open("testdata/seccomp-records.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []Record
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r, err := Parse([]byte(line))
		if err != nil {
			t.Fatalf("Parse(%q): %v", line, err)
		}
		got = append(got, r)
	}
	if len(got) != 5 {
		t.Fatalf("parsed %d records, want 5", len(got))
	}
	want0 := Record{
		Serial: 2, Time: "1795733789.340", Auid: SessionUnset, UID: 0, GID: 0, Ses: SessionUnset,
		Pid: 8449, Comm: "x", Exe: "/tmp/cap/x", Sig: 0, Arch: unix.AUDIT_ARCH_X86_64,
		Syscall: 110, Compat: false, IP: 0x7f271d0954f7, Code: 0x7ffc0000,
	}
	if got[0] != want0 {
		t.Errorf("record 0:\n got %+v\nwant %+v", got[0], want0)
	}
	if got[1].Syscall != 309 || got[2].Syscall != 231 {
		t.Errorf("syscalls %d, %d; want 309, 231", got[1].Syscall, got[2].Syscall)
	}
	hexed := got[3]
	if hexed.Comm != "x y" || hexed.Exe != "/tmp/cap/x y" || hexed.Ses != 4 || hexed.Auid != 0 || hexed.Pid != 8618 {
		t.Errorf("hex-encoded record: %+v", hexed)
	}
}

func TestParseFields(t *testing.T) {
	// An LSM adds subj=; a compat (i386) call has another arch and compat=1.
	r, err := Parse([]byte("audit(1.000:9): auid=1000 uid=1000 gid=1000 ses=7 subj=unconfined pid=42 comm=\"a=b\" exe=(null) sig=31 arch=40000003 syscall=20 compat=1 ip=0xf7f1 code=0x7ffc0000\x00"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Arch != unix.AUDIT_ARCH_I386 || !r.Compat || r.Syscall != 20 || r.Ses != 7 || r.Pid != 42 || r.Sig != 31 || r.Comm != "a=b" || r.Exe != "" {
		t.Errorf("got %+v", r)
	}
	// Without the audit( stamp the fields still parse.
	if r, err := Parse([]byte("ses=1 pid=2 arch=c000003e syscall=-1")); err != nil || r.Syscall != -1 {
		t.Errorf("Parse without stamp: %+v, %v", r, err)
	}
}

func TestParseMalformed(t *testing.T) {
	for _, text := range []string{
		"",
		"audit(1.0:1",
		"audit(1.0:1): auid=0 uid=0 pid=1 arch=c000003e syscall=1",   // no ses
		"audit(1.0:1): ses=1 pid=x arch=c000003e syscall=1",          // bad pid
		"audit(1.0:1): ses=1 pid=1 arch=zz syscall=1",                // bad arch
		"audit(1.0:1): ses=1 pid=1 arch=c000003e syscall=1 comm=4G4", // bad hex
	} {
		if r, err := Parse([]byte(text)); !errors.Is(err, ErrMalformed) {
			t.Errorf("Parse(%q) = %+v, %v; want ErrMalformed", text, r, err)
		}
	}
}

func TestSplitMessage(t *testing.T) {
	payload := []byte("audit(1.0:1): ses=1 pid=1 arch=c000003e syscall=1")
	for _, l := range []int{len(payload), len(payload) + unix.NLMSG_HDRLEN} {
		msg := make([]byte, unix.NLMSG_HDRLEN, unix.NLMSG_HDRLEN+len(payload)+3)
		binary.NativeEndian.PutUint32(msg[0:4], uint32(l))
		binary.NativeEndian.PutUint16(msg[4:6], TypeSeccomp)
		msg = append(msg, payload...)
		typ, got, ok := splitMessage(msg)
		if !ok || typ != TypeSeccomp || string(got) != string(payload) {
			t.Errorf("nlmsg_len %d: got %d %q %v", l, typ, got, ok)
		}
	}
	if _, _, ok := splitMessage(make([]byte, 8)); ok {
		t.Error("short datagram accepted")
	}
}

func TestOpenErrorNamesFix(t *testing.T) {
	err := openError("join", unix.EPERM)
	if !errors.Is(err, errs.ErrNotSupported) || !errors.Is(err, unix.EPERM) || !strings.Contains(err.Error(), "CAP_AUDIT_READ") {
		t.Errorf("EPERM: %v", err)
	}
	err = openError("open", unix.EPROTONOSUPPORT)
	if !errors.Is(err, errs.ErrNotSupported) || !strings.Contains(err.Error(), "CONFIG_AUDIT") {
		t.Errorf("EPROTONOSUPPORT: %v", err)
	}
	if err := openError("open", unix.EMFILE); errors.Is(err, errs.ErrNotSupported) {
		t.Errorf("EMFILE mapped to errs.ErrNotSupported: %v", err)
	}
}

func TestAccountSerialGaps(t *testing.T) {
	var r Reader
	for _, s := range []uint64{10, 11, 14, 13, 15, 15, 20} {
		r.account([]byte("audit(1.000:" + strconv.FormatUint(s, 10) + "): ses=1"))
	}
	// 12 never came; 16-19 never came; 13 came late.
	if got := r.Missed(); got != 5 {
		t.Errorf("missed %d, want 5", got)
	}
	r.account([]byte("no stamp"))
	if got := r.Missed(); got != 5 {
		t.Errorf("missed %d after a record without a stamp, want 5", got)
	}
}
