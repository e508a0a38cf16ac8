package main

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestMonitorOutputsChecked: monitor's outputs are checked before it
// starts reading: a --to-profile that cannot be created, an -o that
// rotating would rename (a FIFO here), and --to-profile - where standard
// output holds the JSON lines each give one line, exit 1 and no file.
func TestMonitorOutputsChecked(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--to-profile", filepath.Join(dir, "missing", "seen.json")}, "--to-profile: output " + filepath.Join(dir, "missing", "seen.json")},
		{[]string{"-o", fifo}, "output " + fifo + " is a FIFO"},
		{[]string{"--to-profile", "-"}, "--to-profile - needs --output FILE"},
	} {
		r := runProfgen(t, dir, append([]string{"monitor", "--comm", "profgen-none"}, c.args...)...)
		assertOneLineError(t, r, dir, c.want)
		if r.code != 1 {
			t.Errorf("%v: exit %d, want 1", c.args, r.code)
		}
	}
	if st, err := os.Lstat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the FIFO changed: %v %v", st.Mode(), err)
	}
}
