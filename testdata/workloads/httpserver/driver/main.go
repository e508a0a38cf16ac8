// Command driver makes a fixed set of requests to the httpserver workload and
// exits non-zero on the first failure. It is meant for
// `profgen record --drive`.
//
//	driver [--addr 127.0.0.1:18080] [--rounds 3] [--wait 10s]
//
// Each round does GET /hello, POST /echo, GET /file and GET /missing (which
// must answer 404). Before the first round the driver retries connecting for
// up to --wait, so it also works without a readiness probe.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18080", "server address")
	rounds := flag.Int("rounds", 3, "number of request rounds")
	wait := flag.Duration("wait", 10*time.Second, "how long to wait for the server to accept connections")
	flag.Parse()

	if err := run(*addr, *rounds, *wait); err != nil {
		fmt.Fprintf(os.Stderr, "driver: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("driver: %d rounds ok\n", *rounds)
}

func run(addr string, rounds int, wait time.Duration) error {
	if err := waitReady(addr, wait); err != nil {
		return err
	}
	client := &http.Client{Timeout: 10 * time.Second}
	base := "http://" + addr
	for i := 0; i < rounds; i++ {
		if err := expect(client, "GET", base+"/hello", nil, http.StatusOK, []byte("hello\n")); err != nil {
			return err
		}
		payload := []byte(fmt.Sprintf("echo round %d: %s", i, bytes.Repeat([]byte("x"), 1000)))
		if err := expect(client, "POST", base+"/echo", payload, http.StatusOK, payload); err != nil {
			return err
		}
		if err := expectFile(client, base+"/file"); err != nil {
			return err
		}
		if err := expect(client, "GET", base+"/missing", nil, http.StatusNotFound, nil); err != nil {
			return err
		}
	}
	return nil
}

func waitReady(addr string, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server at %s not ready after %v: %w", addr, wait, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func do(client *http.Client, method, url string, body []byte) (*http.Response, []byte, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		return nil, nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: read body: %w", method, url, err)
	}
	return resp, got, nil
}

func expect(client *http.Client, method, url string, body []byte, status int, want []byte) error {
	resp, got, err := do(client, method, url, body)
	if err != nil {
		return err
	}
	if resp.StatusCode != status {
		return fmt.Errorf("%s %s: status %d, want %d", method, url, resp.StatusCode, status)
	}
	if want != nil && !bytes.Equal(got, want) {
		return fmt.Errorf("%s %s: body %q, want %q", method, url, truncate(got), truncate(want))
	}
	return nil
}

func expectFile(client *http.Client, url string) error {
	resp, got, err := do(client, "GET", url, nil)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d: %s", url, resp.StatusCode, truncate(got))
	}
	size, err := strconv.ParseInt(resp.Header.Get("X-File-Size"), 10, 64)
	if err != nil {
		return fmt.Errorf("GET %s: bad X-File-Size: %w", url, err)
	}
	if want := min(size, 64<<10); int64(len(got)) != want || len(got) == 0 {
		return fmt.Errorf("GET %s: %d bytes, want %d (non-zero)", url, len(got), want)
	}
	return nil
}

func truncate(b []byte) []byte {
	if len(b) > 64 {
		return append(b[:64:64], "..."...)
	}
	return b
}
