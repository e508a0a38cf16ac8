package reachable

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/profgen/profgen/internal/workload"
)

// TestRunTimeLibraries analyses the bundled dlplugin, which loads its
// plug-in with dlopen(3): alone, the plug-in's getpriority is not
// reachable and a note says that what dlopen loads is not followed; given
// the files a recording saw it read, the shared object among them that
// the loader did not map is analysed from its exported functions, and
// the rest (the executable, its DT_NEEDED libraries, the loader, other
// files, an executable) is not taken for a library loaded at run time.
func TestRunTimeLibraries(t *testing.T) {
	exe := workload.Build(t, "dlplugin/dlplugin.c")
	so := workload.BuildShared(t, "dlplugin/plugin.c")
	cache := t.TempDir()

	alone, err := Analyze(exe, Options{CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(alone.Syscalls, "getpriority") {
		t.Fatalf("getpriority reachable from %s alone: the test cannot tell the plug-in's code from its own", exe)
	}
	if !slices.Equal(alone.Dlopen, []string{exe}) || len(alone.RunTime) != 0 {
		t.Errorf("alone: dlopen %v, loaded at run time %v; want [%s], none", alone.Dlopen, alone.RunTime, exe)
	}
	if !hasNote(alone, exe+": libraries loaded at run time are not followed (dlopen imported by "+exe+"): ", "EXE arguments") {
		t.Errorf("alone: no note that dlopen is not followed: %q", alone.Notes)
	}

	txt := filepath.Join(t.TempDir(), "plain.txt")
	if err := os.WriteFile(txt, []byte("not a library\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	libc := "/lib/x86_64-linux-gnu/libc.so.6"
	loaded := []string{so, exe, libc, "/etc/ld.so.cache", txt, "/usr/bin/true", "/lib64/ld-linux-x86-64.so.2"}
	p, err := Analyze(exe, Options{CacheDir: cache, Loaded: loaded, LoadedKnown: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(p.Syscalls, "getpriority") {
		t.Errorf("getpriority not reachable with the plug-in loaded at run time (%v)", p.Syscalls)
	}
	if !slices.Equal(p.RunTime, []string{so}) || !slices.Contains(p.Objects, so) {
		t.Errorf("loaded at run time %v, objects %v; want %s alone", p.RunTime, p.Objects, so)
	}
	if !p.Complete {
		t.Errorf("incomplete: %q", p.Notes)
	}
	if !hasNote(p, exe+": loaded at run time, seen in the recording (analysed from their exported functions): "+so+"; ", "paths the drive did not take are not followed (dlopen imported by "+exe+")") {
		t.Errorf("no note of the library loaded at run time: %q", p.Notes)
	}
	if hasNote(p, "", "record with the ebpf backend") {
		t.Errorf("a recording's analysis advises recording: %q", p.Notes)
	}
	for _, n := range p.Notes {
		if strings.Contains(n, "libc.so.6") || strings.Contains(n, "/usr/bin/true") {
			t.Errorf("note about a file the loader mapped or an executable: %q", n)
		}
	}

	// A recording that saw no library loaded says so.
	none, err := Analyze(exe, Options{CacheDir: cache, Loaded: []string{libc}, LoadedKnown: true})
	if err != nil {
		t.Fatal(err)
	}
	// The cache holds each file's analysis, never a program's: the same
	// executable from the same cache follows what each recording saw.
	if slices.Contains(none.Syscalls, "getpriority") {
		t.Errorf("getpriority reachable from a recording that loaded no plug-in (from the cache of the analysis that did?)")
	}
	if len(none.RunTime) != 0 || !hasNote(none, exe+": no library loaded at run time in the recording; libraries loaded only on paths the drive did not take are not followed (dlopen imported by "+exe+")", "") {
		t.Errorf("recording without the plug-in: loaded %v, notes %q", none.RunTime, none.Notes)
	}

	// A library the recording saw that is gone is noted, never silent.
	// A gone file not named as one (a temporary file, a cache) is not.
	gone, err := Analyze(exe, Options{CacheDir: cache, Loaded: []string{"/nonexistent/libgone.so.1", "/nonexistent/ld.so.cache", "/nonexistent/x.json"}, LoadedKnown: true})
	if err != nil {
		t.Fatal(err)
	}
	if gone.Complete || !hasNote(gone, "/nonexistent/libgone.so.1 (loaded at run time by "+exe+"): not analysed: ", "") || hasNote(gone, "/nonexistent/ld.so.cache", "") || hasNote(gone, "/nonexistent/x.json", "") {
		t.Errorf("gone library: complete %v, notes %q", gone.Complete, gone.Notes)
	}
}

// TestDlopenImporters: a library that imports dlopen is named, whoever
// loads it.
func TestDlopenImporters(t *testing.T) {
	pam, err := filepath.Glob("/lib/x86_64-linux-gnu/libpam.so.*")
	if err != nil || len(pam) == 0 {
		t.Fatalf("libpam: none in /lib/x86_64-linux-gnu (scripts/deps.sh installs it)")
	}
	runuser := need(t, "runuser")
	r := analyze(t, runuser)
	for _, o := range r.Dlopen {
		if !slices.Contains(r.Objects, o) {
			t.Errorf("dlopen importer %s is not among the objects %v", o, r.Objects)
		}
	}
	if !slices.ContainsFunc(r.Dlopen, func(o string) bool { return strings.Contains(o, "libpam.so") }) {
		t.Errorf("runuser: libpam, which loads PAM modules with dlopen, not among the importers %v", r.Dlopen)
	}
	if !hasNote(r, runuser+": libraries loaded at run time are not followed (dlopen imported by ", "libpam.so") {
		t.Errorf("runuser: no dlopen note: %q", r.Notes)
	}
}

func hasNote(p *Program, prefix, contains string) bool {
	return slices.ContainsFunc(p.Notes, func(n string) bool {
		return strings.HasPrefix(n, prefix) && strings.Contains(n, contains)
	})
}
