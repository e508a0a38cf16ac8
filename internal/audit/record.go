package audit

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"golang.org/x/sys/unix"
)

// TypeSeccomp is the audit message type of seccomp records (AUDIT_SECCOMP in
// linux/audit.h).
const TypeSeccomp = unix.AUDIT_SECCOMP

// SessionUnset is the session id (and login uid) of a task that never had
// one set (AUDIT_SID_UNSET).
const SessionUnset = ^uint32(0)

// Record is one seccomp audit record, as the kernel's audit_seccomp writes
// it:
//
//	audit(1764200000.123:456): auid=0 uid=0 gid=0 ses=3 subj=unconfined
//	pid=123 comm="cat" exe="/usr/bin/cat" sig=0 arch=c000003e syscall=0
//	compat=0 ip=0x7f0000001234 code=0x7ffc0000
type Record struct {
	// Serial is the audit event serial number, Time its timestamp as
	// printed (seconds.milliseconds).
	Serial uint64
	Time   string
	Auid   uint32
	UID    uint32
	GID    uint32
	// Ses is the audit session id of the task that made the call.
	Ses uint32
	// Pid is the thread group id of the caller (not the thread id).
	Pid int
	// Comm is the calling thread's name, Exe its executable.
	Comm string
	Exe  string
	Sig  int
	// Arch is the AUDIT_ARCH_* value of the call, as in seccomp_data.arch.
	Arch uint32
	// Syscall is the system call number.
	Syscall int64
	// Compat is set for a call made through a compat entry (for example
	// i386 on x86_64).
	Compat bool
	IP     uint64
	// Code is the seccomp action that made the kernel log the call
	// (SECCOMP_RET_LOG is 0x7ffc0000).
	Code uint32
}

// fieldMask tells which fields a record carried; Parse fails when one of
// the required ones is missing.
const (
	hasSes = 1 << iota
	hasPid
	hasArch
	hasSyscall
	required = hasSes | hasPid | hasArch | hasSyscall
)

// ErrMalformed is wrapped by Parse errors.
var ErrMalformed = errors.New("malformed seccomp audit record")

// Parse parses the text of one AUDIT_SECCOMP record (the netlink payload,
// without the message header). Unknown fields are ignored, so fields that
// an LSM or a newer kernel adds do not break it.
func Parse(text []byte) (Record, error) {
	var p parser
	return p.parse(text)
}

// parser parses records, reusing the strings of the last comm and exe it
// decoded: a stream of records from one process then allocates nothing.
type parser struct {
	comm, exe strCache
}

type strCache struct {
	raw []byte
	s   string
	err error
}

func (c *strCache) get(raw []byte) (string, error) {
	if c.raw != nil && string(raw) == string(c.raw) {
		return c.s, c.err
	}
	c.raw = append(c.raw[:0], raw...)
	c.s, c.err = untrusted(raw)
	return c.s, c.err
}

func (p *parser) parse(text []byte) (Record, error) {
	var r Record
	var err error
	if r.Time, r.Serial, text, err = parseStamp(text); err != nil {
		return r, err
	}
	var seen int
	for len(text) > 0 {
		var field []byte
		if i := bytes.IndexByte(text, ' '); i >= 0 {
			field, text = text[:i], text[i+1:]
		} else {
			field, text = text, nil
		}
		key, val, ok := bytes.Cut(field, []byte("="))
		if !ok {
			continue
		}
		var err error
		switch string(key) {
		case "auid":
			r.Auid, err = parseU32(val, 10)
		case "uid":
			r.UID, err = parseU32(val, 10)
		case "gid":
			r.GID, err = parseU32(val, 10)
		case "ses":
			r.Ses, err = parseU32(val, 10)
			seen |= hasSes
		case "pid":
			var v int64
			v, err = strconv.ParseInt(string(val), 10, 32)
			r.Pid = int(v)
			seen |= hasPid
		case "comm":
			r.Comm, err = p.comm.get(val)
		case "exe":
			r.Exe, err = p.exe.get(val)
		case "sig":
			var v int64
			v, err = strconv.ParseInt(string(val), 10, 32)
			r.Sig = int(v)
		case "arch":
			r.Arch, err = parseU32(val, 16)
			seen |= hasArch
		case "syscall":
			r.Syscall, err = strconv.ParseInt(string(val), 10, 64)
			seen |= hasSyscall
		case "compat":
			r.Compat = string(val) != "0"
		case "ip":
			r.IP, err = strconv.ParseUint(string(bytes.TrimPrefix(val, []byte("0x"))), 16, 64)
		case "code":
			var v uint32
			v, err = parseU32(bytes.TrimPrefix(val, []byte("0x")), 16)
			r.Code = v
		}
		if err != nil {
			return r, fmt.Errorf("%w: field %s: %v", ErrMalformed, key, err)
		}
	}
	if seen&required != required {
		return r, fmt.Errorf("%w: missing ses, pid, arch or syscall", ErrMalformed)
	}
	return r, nil
}

// parseStamp splits a record's text (trailing NULs, newlines and spaces
// trimmed) into its "audit(SECONDS.MS:SERIAL): " stamp, when it has one,
// and its fields.
func parseStamp(text []byte) (time string, serial uint64, fields []byte, err error) {
	text = bytes.TrimRight(text, "\x00\n ")
	rest, ok := bytes.CutPrefix(text, []byte("audit("))
	if !ok {
		return "", 0, text, nil
	}
	stamp, after, found := bytes.Cut(rest, []byte("): "))
	if !found {
		return "", 0, nil, fmt.Errorf("%w: unterminated audit( stamp: %q", ErrMalformed, text)
	}
	t, ser, _ := bytes.Cut(stamp, []byte(":"))
	sec, ms, dot := bytes.Cut(t, []byte("."))
	if !dot || !allDigits(sec) || !allDigits(ms) {
		return "", 0, nil, fmt.Errorf("%w: bad audit( time stamp: %q", ErrMalformed, stamp)
	}
	v, err := strconv.ParseUint(string(ser), 10, 64)
	if err != nil {
		return "", 0, nil, fmt.Errorf("%w: bad audit( serial: %q", ErrMalformed, stamp)
	}
	return string(t), v, after, nil
}

// allDigits reports whether b is one or more decimal digits.
func allDigits(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func parseU32(b []byte, base int) (uint32, error) {
	v, err := strconv.ParseUint(string(b), base, 32)
	return uint32(v), err
}

// untrusted decodes a string the kernel logged with
// audit_log_untrustedstring: quoted when it is plain, hex otherwise, and
// "(null)" when absent.
func untrusted(b []byte) (string, error) {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		return string(b[1 : len(b)-1]), nil
	}
	if string(b) == "(null)" {
		return "", nil
	}
	out := make([]byte, hex.DecodedLen(len(b)))
	if _, err := hex.Decode(out, b); err != nil {
		return "", err
	}
	return string(out), nil
}
