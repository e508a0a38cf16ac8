package reachable

import (
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/profgen/profgen/internal/abi"
)

// Options say where a program's files are and where analyses are cached.
type Options struct {
	// Root is the filesystem the program runs in ("" or "/" for the host;
	// a container's rootfs). Paths, symbolic links and the loader's
	// configuration are resolved inside it.
	Root string
	// CacheDir holds cached analyses; "" for DefaultCacheDir, "-" for none.
	CacheDir string
	// Loaded are files the program read at run time as a recording saw
	// them (paths inside Root). Those that are shared objects the loader
	// did not map for the executable (libraries it loaded with dlopen(3):
	// PAM and NSS modules, plug-ins) are analysed too, every exported
	// function a root, with the libraries they need.
	Loaded []string
	// LoadedKnown says that Loaded is what a recording saw the program
	// read (a recording with file paths). Without it, a program whose code
	// imports dlopen or dlmopen is noted as loading libraries that are not
	// followed.
	LoadedKnown bool
}

// Program is what one executable and the objects the loader maps for it
// can call.
type Program struct {
	// Path is the executable as given (inside Root).
	Path string `json:"path"`
	// Objects are the files analysed, as host paths: the executable, its
	// libraries in load order, the loader, "[vdso]".
	Objects []string `json:"objects"`
	// Syscalls are the reachable syscalls' names, sorted.
	Syscalls []string `json:"syscalls"`
	// Undetermined counts the syscall sites (instructions, or calls of a
	// generic syscall function) whose number the analysis cannot tell.
	Undetermined int `json:"undetermined"`
	// Notes say what could not be analysed, one line each.
	Notes []string `json:"notes,omitempty"`
	// Complete is false when a note says part of the program's code was not
	// analysed (a missing library, a non-ELF file). Libraries loaded with
	// dlopen that the recording did not see are outside it: Dlopen and a
	// note say so.
	Complete bool `json:"complete"`
	// RunTime are the shared objects the program loaded at run time that
	// the recording saw (from Options.Loaded), as host paths; they are
	// among Objects.
	RunTime []string `json:"loadedAtRunTime,omitempty"`
	// Dlopen are the analysed objects (host paths) whose reachable code
	// imports dlopen or dlmopen: what they load is followed only as far as
	// RunTime holds it.
	Dlopen []string `json:"dlopen,omitempty"`
}

type object struct {
	path    string // host path, or "[vdso]"
	im      *Image
	all     bool // every function is a root (executable, loader, vDSO)
	exports bool // every exported function is a root (loaded at run time)
}

// Analyze computes the syscalls reachable from the executable at exe
// (inside opt.Root). A file that is not there is an error; what cannot be
// analysed in a file that is there becomes a note.
func Analyze(exe string, opt Options) (*Program, error) {
	p := &Program{Path: exe, Complete: true}
	c := newCache(opt.CacheDir)
	host, err := inRoot(opt.Root, exe)
	if err != nil {
		return nil, fmt.Errorf("executable %s: %w", exe, err)
	}
	if _, err := os.Stat(host); err != nil {
		return nil, fmt.Errorf("executable %s: %w", exe, err)
	}
	main, err := c.load(host)
	if err != nil {
		p.note("%s: not analysed: %v", exe, errors.Unwrap(err))
		if !errors.Is(err, ErrNotELF) && !errors.Is(err, ErrNotAMD64) {
			p.Notes[len(p.Notes)-1] = fmt.Sprintf("%s: not analysed: %v", exe, err)
		}
		p.Complete = false
		p.Syscalls = []string{}
		return p, nil
	}
	objs := []*object{{path: host, im: main, all: true}}
	if main.Stripped {
		if main.Go {
			p.note("%s: stripped Go binary: function names from .gopclntab", exe)
		} else {
			p.note("%s: stripped: no .symtab; functions from .eh_frame and the dynamic symbols (its whole code is decoded)", exe)
		}
	}
	if main.Static {
		p.note("%s: static binary: no shared libraries; all of its code counts as reachable (libc inside it without its own call graph)", exe)
	}
	ld := newLoader(opt.Root, c, p)
	ld.libraries(exe, host, main)
	if main.Dynamic && main.Interp != "" {
		if o := ld.object(main.Interp, "PT_INTERP of "+exe); o != nil {
			o.all = true
		}
	}
	ld.runTime(exe, opt.Loaded)
	objs = append(objs, ld.order...)
	if v, err := c.vdso(); err != nil {
		p.note("[vdso]: not analysed: %v", err)
	} else {
		objs = append(objs, &object{path: "[vdso]", im: v, all: true})
	}
	nrs, undet, dl := closure(objs)
	p.Undetermined = undet
	for _, o := range objs {
		p.Objects = append(p.Objects, o.path)
		if o.exports {
			p.RunTime = append(p.RunTime, o.path)
		}
	}
	for _, i := range dl {
		p.Dlopen = append(p.Dlopen, objs[i].path)
	}
	p.noteRunTime(exe, opt.LoadedKnown)
	bad := 0
	p.Syscalls = []string{}
	for _, nr := range nrs {
		name, err := abi.SyscallName("amd64", nr)
		if err != nil || strings.HasPrefix(name, "UNKNOWN") {
			bad++
			continue
		}
		p.Syscalls = append(p.Syscalls, name)
	}
	sort.Strings(p.Syscalls)
	if bad > 0 {
		p.note("%d determined numbers name no x86_64 syscall (left out; counted as undetermined)", bad)
		p.Undetermined += bad
	}
	return p, nil
}

func (p *Program) note(format string, a ...any) {
	p.Notes = append(p.Notes, fmt.Sprintf(format, a...))
}

// noteRunTime says what the analysis knows of the libraries the program
// loads at run time: those the recording saw (known), and that those
// loaded by dlopen on other paths are not followed. Never silent when the
// code imports dlopen.
func (p *Program) noteRunTime(exe string, known bool) {
	importers := ""
	if len(p.Dlopen) > 0 {
		importers = fmt.Sprintf(" (dlopen imported by %s)", strings.Join(p.Dlopen, ", "))
	}
	switch {
	case !known && len(p.Dlopen) > 0:
		p.note("%s: libraries loaded at run time are not followed%s: record with the ebpf backend (its landlock section names the files loaded) or give them as further EXE arguments", exe, importers)
	case len(p.RunTime) > 0:
		p.note("%s: loaded at run time, seen in the recording (analysed from their exported functions): %s; libraries loaded only on paths the drive did not take are not followed%s", exe, strings.Join(p.RunTime, ", "), importers)
	case known && len(p.Dlopen) > 0:
		p.note("%s: no library loaded at run time in the recording; libraries loaded only on paths the drive did not take are not followed%s", exe, importers)
	}
}

// isDlopen says whether the imported symbol name is dlopen(3) or
// dlmopen(3), with or without a version.
func isDlopen(name string) bool {
	if i := strings.IndexByte(name, '@'); i >= 0 {
		name = name[:i]
	}
	return name == "dlopen" || name == "dlmopen"
}

// closure follows the call graph from the roots of every object and
// returns the syscall numbers reached, the undetermined sites and the
// objects whose reached code imports dlopen or dlmopen.
func closure(objs []*object) ([]int, int, []int) {
	type ref struct{ o, f int }
	seen := map[ref]bool{}
	var work []ref
	push := func(r ref) {
		if r.f >= 0 && !seen[r] {
			seen[r] = true
			work = append(work, r)
		}
	}
	resolve := func(name string) (ref, bool) {
		if i := strings.IndexByte(name, '@'); i >= 0 {
			name = name[:i]
		}
		for oi, o := range objs {
			if f, ok := o.im.Exports[name]; ok {
				return ref{oi, f}, true
			}
		}
		return ref{}, false
	}
	dlopen := map[int]bool{}
	pushImport := func(oi int, name string) {
		if isDlopen(name) {
			dlopen[oi] = true
		}
		if r, ok := resolve(name); ok {
			push(r)
		}
	}
	for oi, o := range objs {
		if o.all {
			for f := range o.im.Funcs {
				push(ref{oi, f})
			}
			for _, name := range o.im.Imports {
				pushImport(oi, name)
			}
		}
		if o.exports {
			for _, f := range o.im.Exports {
				push(ref{oi, f})
			}
		}
		for _, f := range o.im.LoadRoots {
			push(ref{oi, f})
		}
		for _, name := range o.im.LoadImports {
			pushImport(oi, name)
		}
	}
	for len(work) > 0 {
		r := work[len(work)-1]
		work = work[:len(work)-1]
		fn := &objs[r.o].im.Funcs[r.f]
		for _, c := range fn.Calls {
			push(ref{r.o, c})
		}
		for _, name := range fn.Imports {
			pushImport(r.o, name)
		}
	}
	nrs := map[int]bool{}
	undet := 0
	for r := range seen {
		fn := &objs[r.o].im.Funcs[r.f]
		undet += fn.Undet
		for _, n := range fn.Sys {
			nrs[n] = true
		}
		for _, s := range fn.Sites {
			callee := ref{r.o, s.Callee}
			if s.Callee < 0 {
				var ok bool
				if callee, ok = resolve(s.Import); !ok {
					continue
				}
			}
			v := int64(-1)
			switch objs[callee.o].im.Funcs[callee.f].GenericReg {
			case "":
				continue
			case "rax":
				v = s.RAX
			case "rdi":
				v = s.RDI
			case "stack":
				v = s.Stack
			}
			switch {
			case v >= 0:
				nrs[int(v)] = true
			case fn.GenericReg == "":
				undet++
			}
		}
	}
	return sortedInts(nrs), undet, slices.Sorted(maps.Keys(dlopen))
}

// loader resolves shared libraries as the dynamic loader would.
type loader struct {
	root   string
	c      *cache
	p      *Program
	dirs   []string // ld.so.conf's directories, then the defaults
	loaded map[string]*object
	order  []*object
	// missing holds the base names of the libraries noted as not found or
	// not analysed: the recording's reads of them are not noted again.
	missing map[string]bool
	// exe and mainRpath are the executable (inside the root) and its
	// DT_RPATH, searched for every object without a DT_RUNPATH.
	exe       string
	mainRpath []string
}

func newLoader(root string, c *cache, p *Program) *loader {
	l := &loader{root: root, c: c, p: p, loaded: map[string]*object{}, missing: map[string]bool{}}
	l.dirs = append(l.readConf("/etc/ld.so.conf", 0), systemDirs...)
	return l
}

// systemDirs are the loader's built-in search path after ld.so.conf's:
// glibc's for x86_64 as Debian and Ubuntu build it (multiarch: `ld.so
// --help` says "/lib/x86_64-linux-gnu (system search path)"), then as
// Fedora and others do (lib64), then the generic ones. An image without
// /etc/ld.so.conf (distroless) still finds its libraries there.
var systemDirs = []string{"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"}

// readConf reads an ld.so.conf file and its includes (inside the root).
func (l *loader) readConf(name string, depth int) []string {
	if depth > 8 {
		return nil
	}
	host, err := inRoot(l.root, name)
	if err != nil {
		return nil
	}
	b, err := os.ReadFile(host)
	if err != nil {
		return nil
	}
	var dirs []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		switch {
		case line == "":
		case strings.HasPrefix(line, "include"):
			pat := strings.TrimSpace(strings.TrimPrefix(line, "include"))
			if !path.IsAbs(pat) {
				pat = path.Join(path.Dir(name), pat)
			}
			matches, _ := filepath.Glob(filepath.Join(l.rootDir(), pat))
			sort.Strings(matches)
			for _, m := range matches {
				rel := "/" + strings.TrimPrefix(strings.TrimPrefix(m, l.rootDir()), "/")
				dirs = append(dirs, l.readConf(rel, depth+1)...)
			}
		default:
			dirs = append(dirs, line)
		}
	}
	return dirs
}

func (l *loader) rootDir() string {
	if l.root == "" {
		return "/"
	}
	return l.root
}

// libraries loads the DT_NEEDED closure of the executable, breadth first.
func (l *loader) libraries(exe, host string, im *Image) {
	if real, err := filepath.EvalSymlinks(host); err == nil {
		l.loaded[real] = nil // the executable itself is not a library
	}
	l.exe, l.mainRpath = exe, im.Rpath
	if len(im.Runpath) > 0 {
		l.mainRpath = nil
	}
	if im.Dynamic {
		l.needed(exe, im)
	}
}

// runTime adds the shared objects of loaded (paths inside the root, read
// by the program at run time) that the loader did not map for the
// executable, each exported function a root, then the libraries they
// need, as dlopen(3) would load them.
func (l *loader) runTime(exe string, loaded []string) {
	var added []*object
	var inside []string
	for _, name := range slices.Sorted(slices.Values(loaded)) {
		host, err := inRoot(l.root, name)
		if err != nil {
			continue
		}
		real, err := filepath.EvalSymlinks(host)
		if err != nil {
			real = host
		}
		if _, ok := l.loaded[real]; ok || l.missing[path.Base(name)] {
			continue // mapped by the loader, or noted missing already
		}
		so, err := sharedObject(host)
		if err != nil {
			if looksShared(name) {
				l.p.note("%s (loaded at run time by %s): not analysed: %v", name, exe, errors.Unwrap(err))
				l.p.Complete = false
			}
			continue
		}
		if !so {
			continue
		}
		im, err := l.c.load(host)
		if err != nil {
			l.p.note("%s (loaded at run time by %s): not analysed: %v", name, exe, err)
			l.p.Complete = false
			continue
		}
		o := &object{path: host, im: im, exports: true}
		l.loaded[real] = o
		l.order = append(l.order, o)
		added = append(added, o)
		inside = append(inside, name)
	}
	for i, o := range added {
		l.needed(inside[i], o.im)
	}
}

// looksShared says whether a file's name is a shared object's (NAME.so or
// NAME.so.VERSION, not ld.so.cache): one the recording saw read that is
// gone is noted.
func looksShared(name string) bool {
	base := path.Base(name)
	if strings.HasSuffix(base, ".so") {
		return true
	}
	_, ver, ok := strings.Cut(base, ".so.")
	return ok && ver != "" && ver[0] >= '0' && ver[0] <= '9'
}

// needed loads the DT_NEEDED closure of the object at fromPath (inside
// the root), breadth first.
func (l *loader) needed(fromPath string, im *Image) {
	type pending struct {
		name, from, fromPath string
		rpath, runpath       []string
	}
	q := []pending{}
	add := func(fromPath string, im *Image) {
		for _, n := range im.Needed {
			q = append(q, pending{n, fromPath, fromPath, im.Rpath, im.Runpath})
		}
	}
	add(fromPath, im)
	exe, mainRpath := l.exe, l.mainRpath
	for len(q) > 0 {
		n := q[0]
		q = q[1:]
		var dirs []string
		origin := path.Dir(n.fromPath)
		if len(n.runpath) == 0 {
			dirs = append(dirs, expandOrigin(n.rpath, origin)...)
			dirs = append(dirs, mainRpathDirs(mainRpath, exe)...)
		}
		dirs = append(dirs, expandOrigin(n.runpath, origin)...)
		dirs = append(dirs, l.dirs...)
		inside, o, isNew := l.find(n.name, dirs, n.from)
		if isNew {
			add(inside, o.im)
		}
	}
}

func mainRpathDirs(rpath []string, exe string) []string {
	return expandOrigin(rpath, path.Dir(exe))
}

func expandOrigin(dirs []string, origin string) []string {
	var out []string
	for _, d := range dirs {
		d = strings.ReplaceAll(d, "${ORIGIN}", origin)
		out = append(out, strings.ReplaceAll(d, "$ORIGIN", origin))
	}
	return out
}

// find searches name in dirs; it returns the path inside the root and the
// object, new or already loaded, or notes that it is missing (nil).
func (l *loader) find(name string, dirs []string, from string) (string, *object, bool) {
	cands := dirs
	if strings.ContainsRune(name, '/') {
		cands = []string{""}
	}
	for _, d := range cands {
		inside := name
		if d != "" {
			inside = path.Join(d, name)
		}
		host, err := inRoot(l.root, inside)
		if err != nil {
			continue
		}
		real, err := filepath.EvalSymlinks(host)
		if err != nil {
			continue
		}
		if o, ok := l.loaded[real]; ok {
			return inside, o, false
		}
		im, err := l.c.load(host)
		if err != nil {
			if errors.Is(err, ErrNotELF) || errors.Is(err, ErrNotAMD64) || errors.Is(err, fs.ErrNotExist) {
				continue // the loader skips incompatible files too
			}
			l.p.note("%s (needed by %s): not analysed: %v", name, from, err)
			l.p.Complete = false
			l.missing[path.Base(name)] = true
			return inside, nil, false
		}
		o := &object{path: host, im: im}
		l.loaded[real] = o
		l.order = append(l.order, o)
		return inside, o, true
	}
	where := strings.Join(dirs, ":")
	if strings.ContainsRune(name, '/') {
		where = "the root filesystem " + l.rootDir()
	}
	if !l.missing[path.Base(name)] { // noted once, for its first requester
		l.p.note("%s (needed by %s): library not found in %s", name, from, where)
	}
	l.p.Complete = false
	l.missing[path.Base(name)] = true
	return "", nil, false
}

// object loads the loader itself (PT_INTERP), unless already loaded.
func (l *loader) object(name, from string) *object {
	_, o, _ := l.find(name, nil, from)
	return o
}

// inRoot resolves p inside root, following symbolic links as a process
// whose root is root would.
func inRoot(root, p string) (string, error) {
	if root == "" || root == "/" {
		return p, nil
	}
	if !path.IsAbs(p) {
		return "", fmt.Errorf("%q is not absolute", p)
	}
	parts := strings.Split(strings.TrimPrefix(path.Clean(p), "/"), "/")
	cur := "/"
	for hops := 0; len(parts) > 0; {
		part := parts[0]
		parts = parts[1:]
		if part == "" || part == "." {
			continue
		}
		if part == ".." {
			cur = path.Dir(cur)
			continue
		}
		next := path.Join(cur, part)
		fi, err := os.Lstat(filepath.Join(root, next))
		if err != nil {
			return filepath.Join(root, next, path.Join(parts...)), nil
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			cur = next
			continue
		}
		if hops++; hops > 40 {
			return "", fmt.Errorf("%s: too many symbolic links", p)
		}
		t, err := os.Readlink(filepath.Join(root, next))
		if err != nil {
			return "", err
		}
		if !path.IsAbs(t) {
			t = path.Join(cur, t)
		}
		parts = append(strings.Split(strings.TrimPrefix(path.Clean(t), "/"), "/"), parts...)
		cur = "/"
	}
	return filepath.Join(root, cur), nil
}

// readVDSO reads the running process's vDSO image from its mapping.
func readVDSO() ([]byte, error) {
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(maps), "\n") {
		if !strings.HasSuffix(line, "[vdso]") {
			continue
		}
		rng, _, _ := strings.Cut(line, " ")
		lo, hi, _ := strings.Cut(rng, "-")
		a, err1 := strconv.ParseUint(lo, 16, 64)
		b, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || b <= a {
			return nil, fmt.Errorf("/proc/self/maps: bad [vdso] line %q", line)
		}
		mem, err := os.Open("/proc/self/mem")
		if err != nil {
			return nil, err
		}
		defer mem.Close()
		buf := make([]byte, b-a)
		if _, err := mem.ReadAt(buf, int64(a)); err != nil {
			return nil, fmt.Errorf("/proc/self/mem: %w", err)
		}
		return buf, nil
	}
	return nil, errors.New("no [vdso] mapping in /proc/self/maps")
}

func parseVDSO(b []byte) (*elf.File, error) {
	return elf.NewFile(bytes.NewReader(b))
}
