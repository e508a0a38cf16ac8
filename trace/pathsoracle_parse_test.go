package trace

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestStraceAccesses checks the path oracle's reading of a trace against
// the rights worked out by hand: calls split by another process's line,
// a child's cwd from its parent's, O_TRUNC on an existing file and O_CREAT
// that creates one, mknodat by mode, renames with and without
// RENAME_NOREPLACE into another directory, AT_REMOVEDIR, O_PATH, failed
// calls, and a quoted name with an escape.
func TestStraceAccesses(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "old"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	root, err := filepath.EvalSymlinks(root)
	if err != nil {
		t.Fatal(err)
	}
	trace := strings.ReplaceAll(`100 chdir("ROOT") = 0
100 openat(AT_FDCWD<ROOT>, "old", O_WRONLY|O_CREAT|O_TRUNC, 0644) = 3<ROOT/old>
100 openat(AT_FDCWD<ROOT>, "new", O_RDWR|O_CREAT|O_TRUNC, 0644 <unfinished ...>
101 mkdir("x", 0755 <unfinished ...>
100 <... openat resumed>) = 4<ROOT/new>
101 <... mkdir resumed>) = 0
100 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f00) = 101
101 +++ exited with 0 +++
100 mknodat(AT_FDCWD<ROOT>, "x/p", S_IFIFO|0600) = 0
100 renameat2(AT_FDCWD<ROOT>, "new", AT_FDCWD<ROOT>, "x/new", RENAME_NOREPLACE) = 0
100 rename("old", "x/new") = 0
100 rename("nosuch", "y") = -1 ENOENT (No such file or directory)
100 open("ROOT/x/new", O_RDONLY|O_PATH) = 5<ROOT/x/new>
100 unlinkat(AT_FDCWD<ROOT>, "x/p", 0) = 0
100 unlinkat(AT_FDCWD<ROOT>, "x/new", 0) = 0
100 unlinkat(AT_FDCWD<ROOT>, "x", AT_REMOVEDIR) = 0
100 symlink("t", "s\"q") = 0
100 truncate("s", 0) = -1 ENOENT (No such file or directory)
100 exit_group(0) = ?
`, "ROOT", root)
	file := filepath.Join(t.TempDir(), "strace.out")
	if err := os.WriteFile(file, []byte(trace), 0o644); err != nil {
		t.Fatal(err)
	}
	files := snapshotFiles(t, root)
	got, skipped := straceAccesses(t, file, "/", files)
	var have []string
	for _, a := range got {
		have = append(have, strings.TrimPrefix(a.path, root)+" "+a.right)
	}
	want := []string{
		"/old write_file", "/old truncate",
		"/new make_reg", "/new read_file", "/new write_file",
		"/x make_dir",
		"/x/p make_fifo",
		"/new remove_file", "/x/new make_reg", "/new refer", "/x/new refer",
		"/old remove_file", "/x/new remove_file", "/x/new make_reg", "/old refer", "/x/new refer",
		"/x/p remove_file", "/x/new remove_file", "/x remove_dir",
		`/s"q make_sym`,
	}
	slices.Sort(have)
	slices.Sort(want)
	if !slices.Equal(have, want) {
		t.Errorf("oracle:\n%s\nwant:\n%s", strings.Join(have, "\n"), strings.Join(want, "\n"))
	}
	if len(skipped) > 0 {
		t.Errorf("skipped: %v", skipped)
	}
}
