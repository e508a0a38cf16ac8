package audit

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/errs"
)

// Landlock's audit record types (Linux 6.15, Landlock ABI 7).
const (
	TypeLandlockAccess = unix.AUDIT_LANDLOCK_ACCESS // 1423: one denial
	TypeLandlockDomain = unix.AUDIT_LANDLOCK_DOMAIN // 1424: a domain's allocation and end
	typeSyscall        = unix.AUDIT_SYSCALL         // 1300: the call of the same event
	typeEOE            = unix.AUDIT_EOE             // 1320: the end of an event
)

// LandlockDenial is one access Landlock denied, from its
// AUDIT_LANDLOCK_ACCESS record and the AUDIT_SYSCALL record of the same
// event (the process and the call), as Linux 6.18 writes them:
//
//	domain=1eba81c9d blockers=fs.read_file path="/etc/shadow" dev="vda" ino=1196044
//	domain=1eba81ca1 blockers=net.bind_tcp saddr=127.0.0.1 src=39875
//	domain=1eba81ca1 blockers=net.connect_tcp daddr=127.0.0.1 dest=22
//	domain=... blockers=fs.make_reg path="/tmp/x" ...   (the directory)
//
// A right checked on a directory (make_*, remove_*, refer) names the
// directory, not the entry.
type LandlockDenial struct {
	Serial uint64
	Time   string
	// Domain is the Landlock domain's id (hex), as the record prints it.
	Domain string
	// Blockers are the denied rights, as the record names them
	// ("fs.read_file", "net.bind_tcp", "scope.signal").
	Blockers []string
	// Path is the file or directory of a filesystem denial; Port and
	// Addr the TCP port and address of a network one (src= for bind,
	// dest= for connect).
	Path string
	Port int
	Addr string
	// Process is the AUDIT_SYSCALL record of the event: pid, audit
	// session, comm, exe and syscall of the denied call. HasProcess is
	// false when the event had none (the audit context was off).
	Process    Record
	HasProcess bool
}

// ParseLandlockAccess parses the text of an AUDIT_LANDLOCK_ACCESS record.
func ParseLandlockAccess(text []byte) (LandlockDenial, error) {
	var d LandlockDenial
	var err error
	if d.Time, d.Serial, text, err = parseStamp(text); err != nil {
		return d, err
	}
	for _, field := range bytes.Fields(text) {
		key, val, ok := bytes.Cut(field, []byte("="))
		if !ok {
			continue
		}
		switch string(key) {
		case "domain":
			d.Domain = string(val)
		case "blockers":
			d.Blockers = strings.Split(string(val), ",")
		case "path":
			d.Path, err = untrusted(val)
		case "src", "dest":
			d.Port, err = strconv.Atoi(string(val))
		case "saddr", "daddr":
			d.Addr = string(val)
		}
		if err != nil {
			return d, fmt.Errorf("%w: landlock field %s: %v", ErrMalformed, key, err)
		}
	}
	if d.Domain == "" || len(d.Blockers) == 0 {
		return d, fmt.Errorf("%w: landlock record without domain or blockers: %q", ErrMalformed, text)
	}
	return d, nil
}

// landlockEvents pairs AUDIT_LANDLOCK_ACCESS records with the
// AUDIT_SYSCALL record of their event (same serial, which follows) and
// hands each denial on when the event is complete.
type landlockEvents struct {
	on      func(LandlockDenial)
	pending map[uint64][]LandlockDenial
	parser  parser
}

// take handles one record of any type: Landlock's denials wait for the
// AUDIT_SYSCALL (or end) record of their event.
func (e *landlockEvents) take(typ uint16, payload []byte) {
	switch typ {
	case TypeLandlockAccess:
		d, err := ParseLandlockAccess(payload)
		if err != nil {
			return
		}
		if e.pending == nil {
			e.pending = map[uint64][]LandlockDenial{}
		}
		e.pending[d.Serial] = append(e.pending[d.Serial], d)
		if len(e.pending) > 1024 { // events whose end never came
			for s, ds := range e.pending {
				if s < d.Serial {
					e.deliver(ds, Record{}, false)
					delete(e.pending, s)
				}
			}
		}
	case typeSyscall, typeEOE:
		serial, ok := stampSerial(payload)
		if !ok {
			return
		}
		ds, ok := e.pending[serial]
		if !ok {
			return
		}
		delete(e.pending, serial)
		if typ == typeSyscall {
			rec, err := e.parser.parse(payload)
			e.deliver(ds, rec, err == nil)
			return
		}
		e.deliver(ds, Record{}, false)
	}
}

func (e *landlockEvents) deliver(ds []LandlockDenial, rec Record, ok bool) {
	for _, d := range ds {
		d.Process, d.HasProcess = rec, ok
		e.on(d)
	}
}

// statusEnabled is the offset of "enabled" in struct audit_status, after
// "mask"; AUDIT_STATUS_ENABLED its bit in mask.
const (
	statusLen     = 40
	statusEnabled = 4
)

// Enabled returns the kernel's audit_enabled: 0 off, 1 on, 2 on and
// locked. Landlock logs its denials only when it is not 0 (seccomp's
// SECCOMP_RET_LOG records do not need it).
func Enabled() (int, error) {
	reply, err := auditRequest(unix.AUDIT_GET, nil)
	if err != nil {
		return 0, err
	}
	if len(reply) < statusEnabled+4 {
		return 0, fmt.Errorf("audit status: short reply")
	}
	return int(binary.NativeEndian.Uint32(reply[statusEnabled:])), nil
}

// SetEnabled sets audit_enabled (AUDIT_SET, needs CAP_AUDIT_CONTROL).
func SetEnabled(on bool) error {
	body := make([]byte, statusLen)
	binary.NativeEndian.PutUint32(body[0:], unix.AUDIT_STATUS_ENABLED)
	if on {
		binary.NativeEndian.PutUint32(body[statusEnabled:], 1)
	}
	_, err := auditRequest(unix.AUDIT_SET, body)
	return err
}

// auditLockPath is the file that profgen processes needing audit on for
// Landlock share (EnableForLandlock): each holds a shared flock on it while
// it needs audit on, and its content is "1" when a profgen process turned
// audit on. Its ".mu" sibling serialises the check-and-set of enabling and
// of restoring.
var auditLockPath = "/run/profgen-landlock-audit.lock"

// lockFile opens (creating) path and flocks it with how.
func lockFile(path string, how int) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return f, nil
}

// EnableForLandlock turns audit on when it is off, so that Landlock logs
// its denials, and returns the function that turns it off again once no
// other profgen process needs it (they share auditLockPath: each holds a
// shared lock while it needs audit on; the last to leave restores what
// the first found).
func EnableForLandlock() (restore func() error, err error) {
	mu, err := lockFile(auditLockPath+".mu", unix.LOCK_EX)
	if err != nil {
		return nil, fmt.Errorf("enable audit: %w", err)
	}
	defer mu.Close() // closing releases the lock
	users, err := lockFile(auditLockPath, unix.LOCK_SH)
	if err != nil {
		return nil, fmt.Errorf("enable audit: %w", err)
	}
	on, err := Enabled()
	if err != nil {
		users.Close()
		return nil, err
	}
	if on == 0 {
		if err := SetEnabled(true); err != nil {
			users.Close()
			return nil, err
		}
		if _, err := users.WriteAt([]byte("1"), 0); err != nil {
			users.Close()
			return nil, fmt.Errorf("enable audit: %w", err)
		}
	}
	return func() error {
		defer users.Close()
		mu, err := lockFile(auditLockPath+".mu", unix.LOCK_EX)
		if err != nil {
			return fmt.Errorf("restore audit: %w", err)
		}
		defer mu.Close()
		// Our shared lock to an exclusive one fails while another
		// process holds its shared lock: it still needs audit on.
		if unix.Flock(int(users.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
			return nil
		}
		var b [1]byte
		if n, _ := users.ReadAt(b[:], 0); n == 1 && b[0] == '1' {
			if err := users.Truncate(0); err != nil {
				return fmt.Errorf("restore audit: %w", err)
			}
			return SetEnabled(false)
		}
		return nil
	}, nil
}

// auditRequest sends one audit netlink request and returns the payload of
// its answer (AUDIT_GET) or nil after its acknowledgement.
func auditRequest(typ uint16, body []byte) ([]byte, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_AUDIT)
	if err != nil {
		return nil, openError("open audit netlink socket", err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("audit netlink: bind: %w", err)
	}
	msg := make([]byte, unix.NLMSG_HDRLEN+len(body))
	binary.NativeEndian.PutUint32(msg[0:], uint32(len(msg)))
	binary.NativeEndian.PutUint16(msg[4:], typ)
	binary.NativeEndian.PutUint16(msg[6:], unix.NLM_F_REQUEST|unix.NLM_F_ACK)
	binary.NativeEndian.PutUint32(msg[8:], 1)
	copy(msg[unix.NLMSG_HDRLEN:], body)
	if err := unix.Sendto(fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, auditControlError(typ, err)
	}
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 5})
	buf := make([]byte, 8192)
	var reply []byte
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return nil, fmt.Errorf("audit netlink: receive: %w", err)
		}
		for b := buf[:n]; len(b) >= unix.NLMSG_HDRLEN; {
			l := int(binary.NativeEndian.Uint32(b[0:]))
			t := binary.NativeEndian.Uint16(b[4:])
			if l < unix.NLMSG_HDRLEN || l > len(b) {
				break
			}
			payload := b[unix.NLMSG_HDRLEN:l]
			switch t {
			case unix.NLMSG_ERROR:
				if e := int32(binary.NativeEndian.Uint32(payload)); e != 0 {
					return nil, auditControlError(typ, unix.Errno(-e))
				}
				if typ != unix.AUDIT_GET || reply != nil {
					return reply, nil
				}
			case typ:
				reply = append([]byte(nil), payload...)
				if typ == unix.AUDIT_GET {
					return reply, nil
				}
			}
			b = b[(l+3)&^3:]
			if len(b) < unix.NLMSG_HDRLEN {
				break
			}
		}
	}
}

func auditControlError(typ uint16, err error) error {
	op := "read audit status"
	if typ == unix.AUDIT_SET {
		op = "enable audit"
	}
	if err == unix.EPERM || err == unix.EACCES {
		return &errs.Unsupported{Op: op, Feature: "changing the audit status needs CAP_AUDIT_CONTROL", Fix: "run as root", Err: err}
	}
	return fmt.Errorf("%s: %w", op, err)
}
