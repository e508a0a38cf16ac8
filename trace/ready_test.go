package trace

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

func TestParseReady(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want readiness
		err  string
	}{
		{in: "", want: readiness{}},
		{in: "tcp:127.0.0.1:8080", want: readiness{addr: "127.0.0.1:8080"}},
		{in: "tcp:[::1]:80", want: readiness{addr: "[::1]:80"}},
		{in: "delay:1.5s", want: readiness{delay: 1500 * time.Millisecond}},
		{in: "tcp:localhost", err: "missing port"},
		{in: "delay:soon", err: "bad duration"},
		{in: "delay:-1s", err: "bad duration"},
		{in: "udp:1.2.3.4:5", err: "unknown kind"},
		{in: "tcp", err: "want tcp:HOST:PORT"},
	} {
		got, err := parseReady(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseReady(%q) = %v, %v; want error with %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("parseReady(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestReadyWaitTCP(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	r := readiness{addr: addr}
	if err := r.wait(context.Background(), time.Minute, nil); err != nil {
		t.Errorf("listening %s: %v", addr, err)
	}
	l.Close()

	// Nothing listens any more: the target's end stops the wait...
	gone := make(chan struct{})
	close(gone)
	if err := r.wait(context.Background(), time.Minute, gone); !errors.Is(err, errTargetGone) {
		t.Errorf("target gone: %v", err)
	}
	// ... and so does the timeout, with an error that names the address.
	if err := r.wait(context.Background(), time.Millisecond, nil); err == nil || !strings.Contains(err.Error(), addr) {
		t.Errorf("timeout: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.wait(ctx, time.Minute, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
