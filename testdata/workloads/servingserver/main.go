// Command servingserver is the bundled server of profgen's serving-phase
// demonstration: a Go HTTP server that, built with the profgen_filter tag
// and a filter file profgen emitted (emit --format go, which offers
// EnterServing), installs the learned filter when it starts and stacks the
// serving phase's filter right after listen.
//
//	servingserver [--addr 127.0.0.1:18080]
//	servingserver --drive [--addr 127.0.0.1:18080] [--rounds 5]
//
// It serves:
//
//	GET  /hello  "hello\n"
//	POST /echo   the request body
//	GET  /exec   execve("/bin/true") in the server process itself: the
//	             server is replaced when it is allowed, and answers 403
//	             "execve: ERROR" when it is denied
//
// and exits with status 0 on SIGTERM or SIGINT. Built without the tag it
// loads no filter (what profgen records). With --drive it is the client
// instead (for record --drive): --rounds rounds of GET /hello and POST
// /echo, exiting non-zero on the first failure; it never asks for /exec.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18080", "listen address (with --drive: the server's)")
	drive := flag.Bool("drive", false, "be the client: make --rounds rounds of requests to --addr")
	rounds := flag.Int("rounds", 5, "with --drive: rounds of GET /hello and POST /echo")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("servingserver: ")
	if *drive {
		if err := driveServer(*addr, *rounds); err != nil {
			log.Fatalf("drive: %v", err)
		}
		return
	}
	if err := install(); err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("listen: %v", err)
	}
	// Start-up is done: from here on only the serving phase's calls.
	if err := enterServing(); err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: newMux(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	fmt.Fprintf(os.Stderr, "servingserver: listening on %s (filter: %s)\n", ln.Addr(), filterName)
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		log.Fatalf("serve: %v", err)
	}
}

func newMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("hello\n")) })
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) { io.Copy(w, r.Body) })
	mux.HandleFunc("GET /exec", func(w http.ResponseWriter, r *http.Request) {
		// The execve itself, not a fork first: what the serving
		// filter must deny is this call.
		err := syscall.Exec("/bin/true", []string{"true"}, nil)
		http.Error(w, "execve: "+err.Error(), http.StatusForbidden)
	})
	return mux
}

// driveServer makes rounds rounds of GET /hello and POST /echo to addr.
func driveServer(addr string, rounds int) error {
	client := &http.Client{Timeout: 10 * time.Second}
	for i := 0; i < rounds; i++ {
		body := fmt.Sprintf("round %d", i)
		for _, req := range []struct{ method, path, body, want string }{
			{"GET", "/hello", "", "hello\n"},
			{"POST", "/echo", body, body},
		} {
			r, err := http.NewRequest(req.method, "http://"+addr+req.path, bytes.NewBufferString(req.body))
			if err != nil {
				return err
			}
			resp, err := client.Do(r)
			if err != nil {
				return err
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				return fmt.Errorf("%s %s: %w", req.method, req.path, err)
			}
			if resp.StatusCode != http.StatusOK || string(got) != req.want {
				return fmt.Errorf("%s %s: %s %q, want 200 %q", req.method, req.path, resp.Status, got, req.want)
			}
		}
	}
	return nil
}
