package landlock

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Right is one Landlock access right or scope: its name in Landlock's
// configuration format (landlock-lsm/landlockconfig), its bit, and the ABI
// version and Linux release that brought it.
type Right struct {
	Name   string
	Bit    uint64
	ABI    int
	Kernel string
}

// Rights are Landlock's filesystem rights, in the order of their bits.
var Rights = []Right{
	{"execute", unix.LANDLOCK_ACCESS_FS_EXECUTE, 1, "5.13"},
	{"write_file", unix.LANDLOCK_ACCESS_FS_WRITE_FILE, 1, "5.13"},
	{"read_file", unix.LANDLOCK_ACCESS_FS_READ_FILE, 1, "5.13"},
	{"read_dir", unix.LANDLOCK_ACCESS_FS_READ_DIR, 1, "5.13"},
	{"remove_dir", unix.LANDLOCK_ACCESS_FS_REMOVE_DIR, 1, "5.13"},
	{"remove_file", unix.LANDLOCK_ACCESS_FS_REMOVE_FILE, 1, "5.13"},
	{"make_char", unix.LANDLOCK_ACCESS_FS_MAKE_CHAR, 1, "5.13"},
	{"make_dir", unix.LANDLOCK_ACCESS_FS_MAKE_DIR, 1, "5.13"},
	{"make_reg", unix.LANDLOCK_ACCESS_FS_MAKE_REG, 1, "5.13"},
	{"make_sock", unix.LANDLOCK_ACCESS_FS_MAKE_SOCK, 1, "5.13"},
	{"make_fifo", unix.LANDLOCK_ACCESS_FS_MAKE_FIFO, 1, "5.13"},
	{"make_block", unix.LANDLOCK_ACCESS_FS_MAKE_BLOCK, 1, "5.13"},
	{"make_sym", unix.LANDLOCK_ACCESS_FS_MAKE_SYM, 1, "5.13"},
	{"refer", unix.LANDLOCK_ACCESS_FS_REFER, 2, "5.19"},
	{"truncate", unix.LANDLOCK_ACCESS_FS_TRUNCATE, 3, "6.2"},
	{"ioctl_dev", unix.LANDLOCK_ACCESS_FS_IOCTL_DEV, 5, "6.10"},
}

// NetRights are Landlock's TCP rights.
var NetRights = []Right{
	{"bind_tcp", unix.LANDLOCK_ACCESS_NET_BIND_TCP, 4, "6.7"},
	{"connect_tcp", unix.LANDLOCK_ACCESS_NET_CONNECT_TCP, 4, "6.7"},
}

// Scopes are Landlock's scopes.
var Scopes = []Right{
	{"abstract_unix_socket", unix.LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET, 6, "6.12"},
	{"signal", unix.LANDLOCK_SCOPE_SIGNAL, 6, "6.12"},
}

// FileRights are the filesystem rights Landlock allows on a rule whose
// path is a file rather than a directory.
const FileRights = unix.LANDLOCK_ACCESS_FS_EXECUTE | unix.LANDLOCK_ACCESS_FS_WRITE_FILE |
	unix.LANDLOCK_ACCESS_FS_READ_FILE | unix.LANDLOCK_ACCESS_FS_TRUNCATE | unix.LANDLOCK_ACCESS_FS_IOCTL_DEV

// Bits returns the OR of the rights of table named by names.
func Bits(table []Right, names []string) (uint64, error) {
	var b uint64
	for _, n := range names {
		r, ok := lookup(table, n)
		if !ok {
			return 0, fmt.Errorf("unknown Landlock right %q", n)
		}
		b |= r.Bit
	}
	return b, nil
}

// Names returns the names of the rights of table set in bits, in table
// order.
func Names(table []Right, bits uint64) []string {
	var out []string
	for _, r := range table {
		if bits&r.Bit != 0 {
			out = append(out, r.Name)
		}
	}
	return out
}

// All returns the OR of the rights of table an ABI version has.
func All(table []Right, abi int) uint64 {
	var b uint64
	for _, r := range table {
		if r.ABI <= abi {
			b |= r.Bit
		}
	}
	return b
}

func lookup(table []Right, name string) (Right, bool) {
	for _, r := range table {
		if r.Name == name {
			return r, true
		}
	}
	return Right{}, false
}
