package readers_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/profgen/profgen/emit"
	"github.com/profgen/profgen/readers"
)

// FuzzParseOCI: any OCI/Docker document either is read into a profile or
// fails with ErrProfile; a profile that is read writes (emit.OCI, then
// WriteOCI) a document that reads back into a profile writing the same
// bytes (round trip through the OCI writer).
func FuzzParseOCI(f *testing.F) {
	f.Add([]byte(`{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"syscalls":[{"names":["read","write"],"action":"SCMP_ACT_ALLOW"},{"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_EQ"}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := readers.ParseOCI(data)
		if err != nil {
			if !errors.Is(err, readers.ErrProfile) {
				t.Fatalf("error does not wrap ErrProfile: %v", err)
			}
			return
		}
		write := func() []byte {
			doc, err := emit.OCI(p, emit.OCIOptions{})
			if err != nil {
				t.Fatalf("OCI of a parsed profile: %v", err)
			}
			var b bytes.Buffer
			if err := emit.WriteOCI(&b, doc); err != nil {
				t.Fatalf("WriteOCI: %v", err)
			}
			return b.Bytes()
		}
		first := write()
		if p, err = readers.ParseOCI(first); err != nil {
			t.Fatalf("re-parse of the written document: %v\n%s", err, first)
		}
		if second := write(); !bytes.Equal(first, second) {
			t.Fatalf("round trip changed the document:\n%s\n---\n%s", first, second)
		}
	})
}
