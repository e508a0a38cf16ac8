package recording

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzParse: any input either is a valid recording or fails with
// ErrFormat; a recording that parses encodes to a file that parses again
// into the same encoding (round trip).
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"version":1,"tool":"t","kernel":"6.18","arch":"amd64","backend":"ebpf","scope":"cgroup","command":["x"],"start":"2026-11-26T00:00:00Z","end":"2026-11-26T00:00:01Z","exit":{"code":0},"interrupted":false,"lost":0,"argShapes":false,"inputs":1,"syscalls":[{"name":"read","number":0,"count":1,"seen":1}]}`))
	f.Add([]byte(`{"version":2,"tool":"t","kernel":"6.18","arch":"amd64","backend":"ebpf","scope":"cgroup","command":["x"],"start":"2026-11-26T00:00:00Z","end":"2026-11-26T00:00:01Z","exit":{"code":0},"interrupted":false,"lost":0,"argShapes":false,"inputs":1,"syscalls":[{"name":"read","number":0,"count":1,"seen":1}],"sections":{"x":{}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Parse(data)
		if err != nil {
			if !errors.Is(err, ErrFormat) && r != nil {
				t.Fatalf("failed parse returned a recording: %v", err)
			}
			return
		}
		var first bytes.Buffer
		if err := r.Encode(&first); err != nil {
			t.Fatalf("encode a parsed recording: %v", err)
		}
		back, err := Parse(first.Bytes())
		if err != nil {
			t.Fatalf("re-parse of the encoded recording: %v\n%s", err, first.Bytes())
		}
		var second bytes.Buffer
		if err := back.Encode(&second); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first.Bytes(), second.Bytes()) {
			t.Fatalf("round trip changed the recording:\n%s\n---\n%s", first.Bytes(), second.Bytes())
		}
	})
}
