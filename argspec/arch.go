package argspec

import "github.com/profgen/profgen/internal/abi"

// OpenFlagBits are the open(2) flags whose bit the target architectures
// number differently, by architecture; every other flag (O_ACCMODE,
// O_CREAT, O_EXCL, O_NOCTTY, O_TRUNC, O_APPEND, O_NONBLOCK, O_DSYNC,
// FASYNC, O_NOATIME, O_CLOEXEC, O_SYNC, O_PATH, O_TMPFILE) has one value
// on all of them (asm-generic/fcntl.h). x86_64 takes the generic values;
// aarch64's are arch/arm64/include/uapi/asm/fcntl.h. The values are the
// kernel's: userspace headers define O_LARGEFILE as 0 on 64-bit, but a
// raw call may pass it.
var OpenFlagBits = []struct {
	Name  string
	Value map[abi.Arch]uint64
}{
	{"O_DIRECT", map[abi.Arch]uint64{"amd64": 0x4000, "arm64": 0x10000}},
	{"O_LARGEFILE", map[abi.Arch]uint64{"amd64": 0x8000, "arm64": 0x20000}},
	{"O_DIRECTORY", map[abi.Arch]uint64{"amd64": 0x10000, "arm64": 0x4000}},
	{"O_NOFOLLOW", map[abi.Arch]uint64{"amd64": 0x20000, "arm64": 0x8000}},
}

// TranslateOpenFlags returns v, a value or mask of open(2) flags on from,
// with each bit of OpenFlagBits moved to where to has it. It is a
// permutation of bits, so masks and values translate alike.
func TranslateOpenFlags(from, to abi.Arch, v uint64) uint64 {
	var moved, out uint64
	for _, b := range OpenFlagBits {
		moved |= b.Value[from]
		if v&b.Value[from] != 0 {
			out |= b.Value[to]
		}
	}
	return out | v&^moved
}
