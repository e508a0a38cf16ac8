package trace

import (
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/audit"
	"github.com/profgen/profgen/internal/landlock"
)

// TestLogLandlock: the log backend's launcher applies LogOptions.Landlock
// before the filter, and the target's Landlock denials reach OnLandlock
// with its process.
func TestLogLandlock(t *testing.T) {
	restore, err := audit.EnableForLandlock()
	if err != nil {
		t.Fatal(err)
	}
	defer restore()
	var mu sync.Mutex
	var got []audit.LandlockDenial
	read := uint64(unix.LANDLOCK_ACCESS_FS_READ_FILE | unix.LANDLOCK_ACCESS_FS_EXECUTE)
	l := newTestLog(t, LogOptions{
		Landlock: &landlock.Ruleset{
			HandledFS: read,
			Paths:     []landlock.PathRule{{Path: "/usr", Access: read}, {Path: "/etc/ld.so.cache", Access: read}},
			Log:       true,
		},
		OnLandlock: func(d audit.LandlockDenial) {
			mu.Lock()
			got = append(got, d)
			mu.Unlock()
		},
	})
	runLog(t, l, "/bin/sh", "-c", "/usr/bin/cat /etc/shadow 2>/dev/null; /usr/bin/cat /etc/hostname >/dev/null 2>&1; true")
	mu.Lock()
	defer mu.Unlock()
	paths := map[string]string{}
	for _, d := range got {
		paths[d.Path] = d.Process.Comm + " " + d.Blockers[0]
	}
	if paths["/etc/shadow"] != "cat fs.read_file" || paths["/etc/hostname"] != "cat fs.read_file" {
		t.Errorf("denials: %v", paths)
	}
}
