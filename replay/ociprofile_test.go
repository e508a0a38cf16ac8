package replay

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/profgen/profgen/learn"
)

// TestOCIProfileFile: the profile runc, podman and docker get is prof's
// OCI document, with SECCOMP_FILTER_FLAG_LOG when asked, in a private
// temporary directory; a profile that has no OCI form is refused.
func TestOCIProfileFile(t *testing.T) {
	prof := &learn.Profile{Arch: "amd64", DefaultAction: learn.ErrnoEPERM,
		Syscalls: []learn.Syscall{{Name: "write", Action: learn.Allow}, {Name: "exit_group", Action: learn.Allow}}}
	for _, logFlag := range []bool{false, true} {
		_, file, dir, err := ociProfileFile(prof, logFlag, "podman")
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Dir(file) != dir {
			t.Errorf("profile %s is not in %s", file, dir)
		}
		data, err := os.ReadFile(file)
		os.RemoveAll(dir)
		if err != nil {
			t.Fatal(err)
		}
		var doc specs.LinuxSeccomp
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if doc.DefaultAction != specs.ActErrno || len(doc.Syscalls) == 0 || !slices.Contains(doc.Syscalls[0].Names, "write") {
			t.Errorf("profile %s: %+v", file, doc)
		}
		if got := slices.Contains(doc.Flags, specs.LinuxSeccompFlagLog); got != logFlag {
			t.Errorf("logFlag %v: flags %v", logFlag, doc.Flags)
		}
	}
	bad := *prof
	bad.DefaultAction = learn.Action{} // ActUnset
	if _, _, _, err := ociProfileFile(&bad, false, "docker"); err == nil {
		t.Error("a profile whose default action is unset was written")
	}
}
