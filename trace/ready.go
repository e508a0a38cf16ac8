package trace

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// DefaultReadyTimeout is how long Record waits for the target to become
// ready when Options.ReadyTimeout is zero.
const DefaultReadyTimeout = 30 * time.Second

// readiness says when a target is ready for its driver.
type readiness struct {
	// addr, when set, is a TCP address that accepts connections once the
	// target is ready.
	addr string
	// delay, when addr is empty, is a fixed wait.
	delay time.Duration
}

// parseReady parses "" (ready at once), "tcp:HOST:PORT" or "delay:DURATION".
func parseReady(s string) (readiness, error) {
	kind, arg, ok := strings.Cut(s, ":")
	switch {
	case s == "":
		return readiness{}, nil
	case !ok || arg == "":
		return readiness{}, fmt.Errorf("readiness %q: want tcp:HOST:PORT or delay:DURATION", s)
	case kind == "tcp":
		if _, _, err := net.SplitHostPort(arg); err != nil {
			return readiness{}, fmt.Errorf("readiness %q: %v", s, err)
		}
		return readiness{addr: arg}, nil
	case kind == "delay":
		d, err := time.ParseDuration(arg)
		if err != nil || d < 0 {
			return readiness{}, fmt.Errorf("readiness %q: bad duration %q", s, arg)
		}
		return readiness{delay: d}, nil
	}
	return readiness{}, fmt.Errorf("readiness %q: unknown kind %q; want tcp:HOST:PORT or delay:DURATION", s, kind)
}

// errTargetGone is returned by wait when the target ended before it was
// ready.
var errTargetGone = errors.New("the target exited before it was ready")

// wait blocks until r is satisfied, timeout passes, ctx is done or gone is
// closed (the target ended).
func (r readiness) wait(ctx context.Context, timeout time.Duration, gone <-chan struct{}) error {
	if r.addr == "" {
		if r.delay == 0 {
			return nil
		}
		t := time.NewTimer(r.delay)
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-gone:
			return errTargetGone
		}
	}
	if timeout <= 0 {
		timeout = DefaultReadyTimeout
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	poll := time.NewTicker(50 * time.Millisecond)
	defer poll.Stop()
	var d net.Dialer
	for {
		dctx, cancel := context.WithTimeout(ctx, time.Second)
		c, err := d.DialContext(dctx, "tcp", r.addr)
		cancel()
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-poll.C:
		case <-deadline.C:
			return fmt.Errorf("target not ready: nothing accepted connections on %s within %v (last error: %v)", r.addr, timeout, err)
		case <-ctx.Done():
			return ctx.Err()
		case <-gone:
			return errTargetGone
		}
	}
}

// Readiness is a parsed readiness specification ("", "tcp:HOST:PORT" or
// "delay:DURATION"), for callers outside Record such as live replay.
type Readiness struct{ r readiness }

// ParseReady parses a readiness specification as Options.Ready takes it.
func ParseReady(s string) (Readiness, error) {
	r, err := parseReady(s)
	return Readiness{r}, err
}

// Wait blocks until the readiness is satisfied, timeout passes (0 means
// DefaultReadyTimeout), ctx ends, or gone is closed because the target
// ended.
func (r Readiness) Wait(ctx context.Context, timeout time.Duration, gone <-chan struct{}) error {
	return r.r.wait(ctx, timeout, gone)
}
