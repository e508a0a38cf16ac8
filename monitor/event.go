package monitor

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/internal/audit"
	"github.com/profgen/profgen/internal/seccomp"
)

// Event is one seccomp audit record, as monitor writes it.
type Event struct {
	Timestamp time.Time      `json:"timestamp"`
	Process   Process        `json:"process"`
	Syscall   Syscall        `json:"syscall"`
	Action    seccomp.Action `json:"action"`
	Details   Details        `json:"details"`
}

// Process is the caller of the syscall.
type Process struct {
	Pid  int    `json:"pid"`
	Comm string `json:"comm"`
	Exe  string `json:"exe"`
	UID  uint32 `json:"uid"`
}

// Syscall is the call, named for the ABI it was made through.
type Syscall struct {
	// Name is libseccomp's name for Nr on Arch; empty when it has none.
	Name string `json:"name"`
	Nr   int64  `json:"nr"`
	// Arch is the libseccomp architecture name ("amd64", "x86", "x32"),
	// or the AUDIT_ARCH_* value in hex for one libseccomp does not know.
	Arch string `json:"arch"`
}

// Details are the audit record's own fields.
type Details struct {
	// IP is the instruction pointer of the call, in hex.
	IP string `json:"ip"`
	// Serial is the audit event serial number.
	Serial uint64 `json:"serial"`
	// Session is the audit session id (4294967295 for none).
	Session uint32 `json:"session"`
	// Signal is the signal a kill action sent (the sig= field), when
	// not zero.
	Signal int `json:"signal,omitempty"`
}

// NewEvent decodes rec; the syscall is named by libseccomp for the
// record's own architecture (an i386 call is named as i386).
func NewEvent(rec audit.Record) Event {
	ev := Event{
		Timestamp: auditTime(rec.Time),
		Process:   Process{Pid: rec.Pid, Comm: rec.Comm, Exe: rec.Exe, UID: rec.UID},
		Syscall:   Syscall{Nr: rec.Syscall},
		Action:    auditAction(rec.Code),
		Details:   Details{IP: fmt.Sprintf("%#x", rec.IP), Serial: rec.Serial, Session: rec.Ses, Signal: rec.Sig},
	}
	a, err := rec.ABI()
	if err != nil {
		ev.Syscall.Arch = fmt.Sprintf("%#x", rec.Arch)
		return ev
	}
	ev.Syscall.Arch = string(a)
	if name, err := abi.SyscallName(a, int(rec.Syscall)); err == nil {
		ev.Syscall.Name = name
	}
	return ev
}

// auditAction decodes the code= field of a record. The kernel writes the
// action only (code=0x50000 for every errno denial: kernel/seccomp.c
// passes filter_ret & SECCOMP_RET_ACTION_FULL to audit), so the errno
// number, trap and trace data are not known and left out.
func auditAction(code uint32) seccomp.Action {
	a := seccomp.DecodeRet(code)
	if code&unix.SECCOMP_RET_DATA == 0 {
		a.Errno, a.ErrnoName, a.Data = nil, "", nil
	}
	return a
}

// auditTime parses the "SECONDS.MILLISECONDS" of an audit stamp; the zero
// time when it cannot.
func auditTime(s string) time.Time {
	sec, frac, _ := strings.Cut(s, ".")
	n, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return time.Time{}
	}
	var ns int64
	if frac != "" {
		f, err := strconv.ParseInt((frac + "000000000")[:9], 10, 64)
		if err == nil {
			ns = f
		}
	}
	return time.Unix(n, ns).UTC()
}
