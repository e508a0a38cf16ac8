package audit

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// ErrUnavailable is wrapped by errors that mean the audit multicast group
// cannot be used here: the kernel was built without audit, or the caller
// lacks CAP_AUDIT_READ. The message names the fix.
var ErrUnavailable = errors.New("audit records unavailable")

// ErrClosed is returned by Next once the reader is closed.
var ErrClosed = errors.New("audit reader closed")

// nlgrpReadlog is AUDIT_NLGRP_READLOG, the multicast group that receives a
// copy of every audit record.
const nlgrpReadlog = 1

// DefaultRcvBuf is the receive buffer Open asks for: large enough that a
// burst of records emitted while the reader is not scheduled is not dropped
// (with the default buffer about 3% of a million records were lost).
const DefaultRcvBuf = 64 << 20

// nlmsgHdrLen is sizeof(struct nlmsghdr).
const nlmsgHdrLen = 16

// Options configure Open.
type Options struct {
	// RcvBuf is the socket receive buffer size in bytes; zero means
	// DefaultRcvBuf. It is set with SO_RCVBUFFORCE (needs CAP_NET_ADMIN)
	// and, failing that, with SO_RCVBUF (capped by net.core.rmem_max).
	RcvBuf int
}

// Reader receives seccomp audit records from the audit multicast group.
// Next may be called from one goroutine while Close, Lost and Malformed are
// called from others.
type Reader struct {
	f         *os.File
	rcvBuf    int
	buf       []byte
	lost      atomic.Uint64
	malformed atomic.Uint64
	closeOnce sync.Once
}

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
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: 1 << (nlgrpReadlog - 1)}); err != nil {
		unix.Close(fd)
		return nil, openError("join audit multicast group AUDIT_NLGRP_READLOG", err)
	}
	f := os.NewFile(uintptr(fd), "audit-netlink")
	return &Reader{f: f, rcvBuf: got, buf: make([]byte, 1<<16)}, nil
}

// openError maps the errors of socket and bind to ErrUnavailable with the
// feature and the fix named.
func openError(op string, err error) error {
	switch {
	case errors.Is(err, unix.EPROTONOSUPPORT), errors.Is(err, unix.EAFNOSUPPORT):
		return fmt.Errorf("%s: %w: the kernel has no audit support (CONFIG_AUDIT); use a kernel built with CONFIG_AUDIT=y or the eBPF backend: %v", op, ErrUnavailable, err)
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		return fmt.Errorf("%s: %w: reading audit records needs CAP_AUDIT_READ; run as root or grant it (setcap cap_audit_read,cap_audit_control+ep profgen): %w", op, ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// RcvBuf returns the receive buffer size the kernel granted, as
// SO_RCVBUF reports it (twice what was asked for, for bookkeeping).
func (r *Reader) RcvBuf() int { return r.rcvBuf }

// Lost returns how many times the kernel reported that records were dropped
// because the receive buffer was full (ENOBUFS). Each report stands for at
// least one lost record; the kernel does not say how many.
func (r *Reader) Lost() uint64 { return r.lost.Load() }

// Malformed returns how many seccomp records could not be parsed; Next
// skips them.
func (r *Reader) Malformed() uint64 { return r.malformed.Load() }

// Next blocks until the next seccomp record arrives and returns it. Records
// of other types are skipped. Receive-buffer overruns are counted (see
// Lost) and reading goes on. After Close it returns ErrClosed.
func (r *Reader) Next() (Record, error) {
	for {
		n, err := r.f.Read(r.buf)
		if err != nil {
			if errors.Is(err, unix.ENOBUFS) {
				r.lost.Add(1)
				continue
			}
			if errors.Is(err, os.ErrClosed) {
				return Record{}, ErrClosed
			}
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return Record{}, fmt.Errorf("receive audit record: %w", err)
		}
		typ, payload, ok := splitMessage(r.buf[:n])
		if !ok || typ != TypeSeccomp {
			continue
		}
		rec, err := Parse(payload)
		if err != nil {
			r.malformed.Add(1)
			continue
		}
		return rec, nil
	}
}

// splitMessage returns the type and payload of the one netlink message a
// multicast audit datagram holds. The header is parsed by hand: audit sets
// nlmsg_len to the payload length, not the message length, so generic
// netlink parsers (syscall.ParseNetlinkMessage) reject these messages.
func splitMessage(b []byte) (typ uint16, payload []byte, ok bool) {
	if len(b) < nlmsgHdrLen {
		return 0, nil, false
	}
	typ = binary.NativeEndian.Uint16(b[4:6])
	payload = b[nlmsgHdrLen:]
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
	r.closeOnce.Do(func() { err = r.f.Close() })
	return err
}
