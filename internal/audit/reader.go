package audit

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/errs"
)

// ErrClosed is returned by Next once the reader is closed. It matches
// os.ErrClosed.
var ErrClosed = errs.Closed("audit reader")

// DefaultRcvBuf is the receive buffer Open asks for: large enough that a
// burst of records emitted while the reader is not scheduled is not dropped
// (with the default buffer about 3% of a million records were lost).
const DefaultRcvBuf = 64 << 20

// Options configure Open.
type Options struct {
	// RcvBuf is the socket receive buffer size in bytes; zero means
	// DefaultRcvBuf. It is set with SO_RCVBUFFORCE (needs CAP_NET_ADMIN)
	// and, failing that, with SO_RCVBUF (capped by net.core.rmem_max).
	RcvBuf int
	// OnLandlock, when not nil, receives each denial of Landlock's
	// (AUDIT_LANDLOCK_ACCESS with the process of its AUDIT_SYSCALL
	// record), from the goroutine that calls Next, once the event's
	// records have arrived. Landlock logs denials only while audit is
	// enabled (EnableForLandlock) and, after an execve, only for domains
	// restricted with LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON.
	OnLandlock func(LandlockDenial)
}

// Reader receives seccomp audit records from the audit multicast group.
// Next may be called from one goroutine while Close, Lost, Overruns and
// Malformed are called from others.
type Reader struct {
	f         *os.File
	raw       syscall.RawConn
	rcvBuf    int
	closeOnce sync.Once
	closed    atomic.Bool

	// receive batch, owned by Next
	bufs    [][]byte
	msgs    []unix.Mmsghdr
	iovs    []unix.Iovec
	n, next int
	parser  parser
	// landlock pairs Landlock's records with their events (OnLandlock);
	// nil without it.
	landlock *landlockEvents

	lastSerial uint64 // owned by Next

	missed    atomic.Uint64
	overruns  atomic.Uint64
	malformed atomic.Uint64
}

// batch is how many datagrams one recvmmsg call takes at most; msgSize the
// room for each (an audit record is at most MAX_AUDIT_MESSAGE_LENGTH, 8970
// bytes, plus its header).
const (
	batch   = 64
	msgSize = 9216
)

// Open joins the audit multicast group. Records emitted before Open returns
// are not received.
func Open(opts Options) (*Reader, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_AUDIT)
	if err != nil {
		return nil, openError("open audit netlink socket", err)
	}
	want := opts.RcvBuf
	if want <= 0 {
		want = DefaultRcvBuf
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, want); err != nil {
		// Without CAP_NET_ADMIN: the kernel caps this at rmem_max.
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, want)
	}
	got, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("audit netlink socket: read receive buffer size: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: 1 << (unix.AUDIT_NLGRP_READLOG - 1)}); err != nil {
		unix.Close(fd)
		return nil, openError("join audit multicast group AUDIT_NLGRP_READLOG", err)
	}
	f := os.NewFile(uintptr(fd), "audit-netlink")
	raw, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("audit netlink socket: %w", err)
	}
	r := &Reader{
		f: f, raw: raw, rcvBuf: got,
		bufs: make([][]byte, batch),
		msgs: make([]unix.Mmsghdr, batch),
		iovs: make([]unix.Iovec, batch),
	}
	if opts.OnLandlock != nil {
		r.landlock = &landlockEvents{on: opts.OnLandlock}
	}
	mem := make([]byte, batch*msgSize)
	for i := range r.bufs {
		r.bufs[i] = mem[i*msgSize : (i+1)*msgSize]
		r.iovs[i].Base = &r.bufs[i][0]
		r.iovs[i].SetLen(msgSize)
		r.msgs[i].Hdr.Iov = &r.iovs[i]
		r.msgs[i].Hdr.SetIovlen(1)
	}
	return r, nil
}

// openError maps the errors of socket and bind to errs.Unsupported with the
// feature and the fix named.
func openError(op string, err error) error {
	switch {
	case errors.Is(err, unix.EPROTONOSUPPORT), errors.Is(err, unix.EAFNOSUPPORT):
		return &errs.Unsupported{Op: op, Feature: "the kernel has no audit support (CONFIG_AUDIT)", Fix: "use a kernel built with CONFIG_AUDIT=y", Err: err}
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		return &errs.Unsupported{Op: op, Feature: "reading audit records needs CAP_AUDIT_READ",
			Fix: "run as root or grant it (setcap cap_audit_read,cap_audit_control+ep profgen)", Err: err}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// RcvBuf returns the receive buffer size the kernel granted, as
// SO_RCVBUF reports it (twice what was asked for, for bookkeeping).
func (r *Reader) RcvBuf() int { return r.rcvBuf }

// Missed returns how many audit records were skipped in the stream
// received, by the audit serial numbers. Records of every process count,
// and records the kernel itself dropped count too.
func (r *Reader) Missed() uint64 { return r.missed.Load() }

// Overruns returns how many times the kernel reported records dropped
// because the receive buffer was full (ENOBUFS). It does not say how many;
// Missed does.
func (r *Reader) Overruns() uint64 { return r.overruns.Load() }

// Malformed returns how many seccomp records could not be parsed; Next
// skips them.
func (r *Reader) Malformed() uint64 { return r.malformed.Load() }

// Next blocks until the next seccomp record arrives and returns it. Records
// of other types are skipped. Receive-buffer overruns are counted (see
// Overruns and Missed) and reading goes on. After Close it returns ErrClosed.
func (r *Reader) Next() (Record, error) {
	for {
		for r.next < r.n {
			i := r.next
			r.next++
			typ, payload, ok := splitMessage(r.bufs[i][:r.msgs[i].Len])
			if !ok {
				continue
			}
			r.account(payload)
			if r.landlock != nil {
				r.landlock.take(typ, payload)
			}
			if typ != TypeSeccomp {
				continue
			}
			rec, err := r.parser.parse(payload)
			if err != nil {
				r.malformed.Add(1)
				continue
			}
			return rec, nil
		}
		if err := r.receive(); err != nil {
			return Record{}, err
		}
	}
}

// receive fills the batch with one recvmmsg call, waiting for the socket to
// become readable.
func (r *Reader) receive() error {
	r.n, r.next = 0, 0
	var errno unix.Errno
	err := r.raw.Read(func(fd uintptr) bool {
		n, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.msgs[0])), batch, unix.MSG_DONTWAIT, 0, 0)
		if e == unix.EAGAIN {
			return false
		}
		r.n, errno = int(n), e
		return true
	})
	switch {
	case err != nil:
		if r.closed.Load() || errors.Is(err, os.ErrClosed) {
			return ErrClosed
		}
		return fmt.Errorf("receive audit records: %w", err)
	case errno == unix.ENOBUFS:
		r.n = 0
		r.overruns.Add(1)
	case errno == unix.EINTR:
		r.n = 0
	case errno != 0:
		r.n = 0
		return fmt.Errorf("receive audit records: %w", errno)
	}
	return nil
}

// account follows the audit serial numbers of every record received and
// counts the ones skipped. Records may arrive a little out of serial order
// (serials are taken when a record starts, the queue order is when it
// ends): one that arrives late fills the gap counted before.
func (r *Reader) account(payload []byte) {
	serial, ok := stampSerial(payload)
	if !ok {
		return
	}
	switch {
	case r.lastSerial == 0:
		r.lastSerial = serial
	case serial > r.lastSerial:
		if gap := serial - r.lastSerial - 1; gap > 0 {
			r.missed.Add(gap)
		}
		r.lastSerial = serial
	case serial < r.lastSerial:
		if r.missed.Load() > 0 {
			r.missed.Add(^uint64(0))
		}
	}
}

// stampSerial returns the serial number of "audit(SECONDS:SERIAL): ...".
func stampSerial(payload []byte) (uint64, bool) {
	rest, ok := bytes.CutPrefix(payload, []byte("audit("))
	if !ok {
		return 0, false
	}
	end := bytes.IndexByte(rest, ')')
	colon := bytes.IndexByte(rest, ':')
	if end < 0 || colon < 0 || colon > end {
		return 0, false
	}
	var v uint64
	for _, c := range rest[colon+1 : end] {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	return v, true
}

// splitMessage returns the type and payload of the one netlink message a
// multicast audit datagram holds. The header is parsed by hand: audit sets
// nlmsg_len to the payload length, not the message length, so generic
// netlink parsers (syscall.ParseNetlinkMessage) reject these messages.
func splitMessage(b []byte) (typ uint16, payload []byte, ok bool) {
	if len(b) < unix.NLMSG_HDRLEN {
		return 0, nil, false
	}
	typ = binary.NativeEndian.Uint16(b[4:6])
	payload = b[unix.NLMSG_HDRLEN:]
	// Accept both the historical nlmsg_len (payload only) and a correct one
	// (header included); either way the datagram ends the payload.
	if l := int(binary.NativeEndian.Uint32(b[0:4])); l > 0 && l <= len(payload) {
		payload = payload[:l]
	}
	return typ, payload, true
}

// Close leaves the group and closes the socket; a blocked Next returns
// ErrClosed. It may be called more than once.
func (r *Reader) Close() error {
	var err error
	r.closeOnce.Do(func() {
		r.closed.Store(true)
		err = r.f.Close()
	})
	return err
}
