package emit

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/profgen/profgen/learn"
)

// WriteBPF writes p's compiled filter (opts.Compile) as a raw struct
// sock_filter array: 8 bytes an instruction (code uint16, jt, jf uint8, k
// uint32) in native byte order, what libseccomp's seccomp_export_bpf
// writes and what bwrap --seccomp FD, Firejail and hand-written loaders
// pass to seccomp(2) as they are. The program checks the architecture
// itself; the loader sets no_new_privs (or holds CAP_SYS_ADMIN).
func WriteBPF(w io.Writer, p *learn.Profile, opts Options) error {
	prog, err := compile(p, opts)
	if err != nil {
		return fmt.Errorf("BPF filter: %w", err)
	}
	buf := make([]byte, 0, 8*len(prog))
	for _, ins := range prog {
		buf = binary.NativeEndian.AppendUint16(buf, ins.Code)
		buf = append(buf, ins.Jt, ins.Jf)
		buf = binary.NativeEndian.AppendUint32(buf, ins.K)
	}
	_, err = w.Write(buf)
	return err
}
