package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/profgen/profgen/readers"
	"github.com/profgen/profgen/recording"
)

// privateDev is the preamble of scripts run by runPrivate: /dev becomes a
// tmpfs of the script's own mount namespace with the nodes and links the
// commands need, so that no test ever writes near the machine's /dev.
const privateDev = `set -eu
fail() { echo "FAIL: $*" >&2; exit 1; }
mount -t tmpfs -o mode=755 profgen-test-dev /dev
mknod -m 666 /dev/null c 1 3
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr
`

// runPrivate runs script with sh in a private mount namespace (unshare -m
// makes every mount private), in dir, with $P the profgen binary.
func runPrivate(t *testing.T, dir, script string) (string, error) {
	t.Helper()
	cmd := exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c", privateDev+script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "P="+buildProfgen(t))
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestOutputsSpecialFiles: emit, merge and record with -o a symlink,
// /dev/stdout (into a file and into a pipe), /dev/null and -: the link
// stays a link and its target gets the bytes, the device stays a device,
// the bytes arrive; umask 077 gives 0600 and an existing file keeps its
// mode. /dev is a tmpfs of a private mount namespace.
func TestOutputsSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	writeRecording(t, dir, "rec.json", nil)
	script := `
for cmd in emit merge record; do
	run() { # run OUTPUT: the command writing to OUTPUT
		case $cmd in
		emit) "$P" emit -o "$1" rec.json ;;
		merge) "$P" merge -o "$1" rec.json ;;
		record) "$P" record -o "$1" -- true ;;
		esac
	}
	run /dev/null 2>>log
	[ -c /dev/null ] || fail "$cmd: /dev/null is no longer a character device"
	[ "$(stat -c %t,%T /dev/null)" = 1,3 ] || fail "$cmd: /dev/null is not 1,3"
	[ "$(ls -A /dev | tr '\n' ' ')" = "fd null stderr stdin stdout " ] || fail "$cmd: /dev holds $(ls -A /dev)"
	run /dev/stdout >$cmd-stdout-file.json 2>>log
	run /dev/stdout 2>>log | cat >$cmd-stdout-pipe.json
	[ -L /dev/stdout ] || fail "$cmd: /dev/stdout is no longer a link"
	run - >$cmd-dash.json 2>>log
	echo old >$cmd-target.json
	chmod 640 $cmd-target.json
	ln -s $cmd-target.json $cmd-link.json
	run $cmd-link.json 2>>log
	[ -L $cmd-link.json ] || fail "$cmd: the link was replaced"
	[ "$(stat -c %a $cmd-target.json)" = 640 ] || fail "$cmd: the target's mode became $(stat -c %a $cmd-target.json)"
	(umask 077; run $cmd-umask.json 2>>log)
	[ "$(stat -c %a $cmd-umask.json)" = 600 ] || fail "$cmd: umask 077 gave $(stat -c %a $cmd-umask.json)"
done
ls -A | grep profgen-tmp && fail "temporary files left"
true
`
	if out, err := runPrivate(t, dir, script); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		t.Fatalf("%v: %s\nprofgen's stderr:\n%s", err, out, log)
	}
	for _, cmd := range []string{"emit", "merge", "record"} {
		for _, out := range []string{"stdout-file", "stdout-pipe", "dash", "target", "umask"} {
			path := filepath.Join(dir, cmd+"-"+out+".json")
			var err error
			if cmd == "emit" {
				_, err = readers.ReadOCIFile(path)
			} else {
				var rec *recording.Recording
				rec, err = recording.ReadFile(path)
				if err == nil && cmd == "record" && rec.Lookup("execve") == nil {
					t.Errorf("%s: a recording of true without execve", path)
				}
			}
			if err != nil {
				t.Errorf("%s -o %s: %v", cmd, out, err)
			}
		}
	}
	// Nothing of the host's /dev changed: the host's /dev/null is still
	// the device.
	if st, err := os.Stat("/dev/null"); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("host /dev/null: %v %v", st.Mode(), err)
	}
}

// TestOutputDirectory: -o DIR says it is a directory, for every command.
func TestOutputDirectory(t *testing.T) {
	dir := t.TempDir()
	rec := writeRecording(t, dir, "rec.json", nil)
	sub := filepath.Join(dir, "out")
	os.Mkdir(sub, 0o755)
	for _, args := range [][]string{
		{"emit", "-o", sub, rec},
		{"merge", "-o", sub, rec},
		{"record", "-o", sub, "--", "true"},
		{"record", "-o", "", "--", "true"},
	} {
		r := runProfgen(t, dir, args...)
		want := "output " + sub + " is a directory"
		if args[2] == "" {
			want = "empty output path"
		}
		if r.code == 0 || !strings.Contains(r.stderr, want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q, want one line with %q", args, r.code, r.stderr, want)
		}
	}
	if entries, _ := os.ReadDir(sub); len(entries) != 0 {
		t.Errorf("files written into the directory: %v", entries)
	}
}

// TestRecordToStdout: record -o - writes the recording to standard output
// and the target's standard output to standard error.
func TestRecordToStdout(t *testing.T) {
	dir := t.TempDir()
	r := runProfgen(t, dir, "record", "-o", "-", "--", "sh", "-c", "echo from-the-target")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	rec, err := recording.Parse([]byte(r.stdout))
	if err != nil || rec.Lookup("execve") == nil {
		t.Errorf("standard output is not the recording: %v\n%.200s", err, r.stdout)
	}
	if !strings.Contains(r.stderr, "from-the-target") {
		t.Errorf("the target's output is not on standard error: %q", r.stderr)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files written: %v", entries)
	}
}
