package trace

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"testing"

	"github.com/profgen/profgen/internal/workload"
)

// TestRecordingSizeIndependentOfDuration: the recording aggregates per
// syscall and argument shape in the kernel, so recording the HTTP server
// through four times as many request rounds makes many more events but not
// a bigger file (beyond a few more digits in the counts and the odd
// scheduling-dependent call of the Go runtime). The server's start-up
// makes a share of the events that does not grow with the rounds and
// varies with the scheduling: the long run is four times the short so
// that it stands out of that.
func TestRecordingSizeIndependentOfDuration(t *testing.T) {
	server := workload.Build(t, "httpserver")
	driver := workload.Build(t, "httpserver/driver")
	record := func(rounds int) (size int, events uint64) {
		t.Helper()
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		res, err := Record(context.Background(), Options{
			Command: []string{server, "--addr", addr},
			Backend: newTestEBPF(t, EBPFOptions{}),
			Ready:   "tcp:" + addr,
			Drive:   fmt.Sprintf("%s --addr %s --rounds %d", driver, addr, rounds),
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.DriverErr != nil {
			t.Fatalf("driver: %v", res.DriverErr)
		}
		var buf bytes.Buffer
		if err := res.Recording.Encode(&buf); err != nil {
			t.Fatal(err)
		}
		for _, s := range res.Recording.Syscalls {
			events += s.Count
		}
		return buf.Len(), events
	}
	shortSize, shortEvents := record(50)
	longSize, longEvents := record(200)
	t.Logf("50 rounds: %d events, %d bytes; 200 rounds: %d events, %d bytes", shortEvents, shortSize, longEvents, longSize)
	if longEvents < shortEvents*3/2 {
		t.Fatalf("the long run made %d events, the short one %d: not a longer run", longEvents, shortEvents)
	}
	if longSize > shortSize*115/100 {
		t.Errorf("the recording grew from %d to %d bytes for four times the work", shortSize, longSize)
	}
}
