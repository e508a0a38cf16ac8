package exitcode

import (
	"os/exec"
	"testing"
)

func TestOf(t *testing.T) {
	for _, c := range []struct {
		script string
		code   int
		signal string
	}{
		{"exit 0", 0, ""},
		{"exit 3", 3, ""},
		{"kill -SEGV $$", 139, "SIGSEGV"},
		{"kill -TERM $$", 143, "SIGTERM"},
	} {
		cmd := exec.Command("sh", "-c", c.script)
		cmd.Run()
		if got := Of(cmd.ProcessState); got != c.code {
			t.Errorf("%q: code %d, want %d", c.script, got, c.code)
		}
		if got := Signal(cmd.ProcessState); got != c.signal {
			t.Errorf("%q: signal %q, want %q", c.script, got, c.signal)
		}
	}
	if Of(nil) != -1 || Signal(nil) != "" {
		t.Error("nil ProcessState")
	}
}
