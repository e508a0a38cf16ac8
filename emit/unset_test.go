package emit

import (
	"strings"
	"testing"

	"github.com/profgen/profgen/learn"
)

// TestUnsetActionFails: no output format turns an unset (zero) Action into
// allow; each refuses it.
func TestUnsetActionFails(t *testing.T) {
	unsetDefault := &learn.Profile{Arch: "amd64", Inputs: 1}
	unsetSyscall := &learn.Profile{Arch: "amd64", DefaultAction: learn.ErrnoEPERM, Inputs: 1,
		Syscalls: []learn.Syscall{{Name: "read"}}}
	for _, p := range []*learn.Profile{unsetDefault, unsetSyscall} {
		if _, err := OCI(p, OCIOptions{}); err == nil || !strings.Contains(err.Error(), "unset") {
			t.Errorf("OCI of %+v: %v, want an error naming the unset action", p, err)
		}
	}
}
