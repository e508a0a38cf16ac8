package trace

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/profgen/profgen/internal/fileio"
	"github.com/profgen/profgen/internal/workload"
	"github.com/profgen/profgen/recording"
)

// straceArgs are the strace options of the path oracle: every call of the
// file and process classes, with each descriptor annotated by the path the
// kernel has for it (-y: AT_FDCWD by the cwd, an open's result by the file
// it opened), fchdir, which moves the cwd by a descriptor, and bind, which
// makes a UNIX socket's file.
var straceArgs = []string{"-y", "-e", "trace=%file,%process,fchdir,bind"}

// oracleAccess is one access the kernel checked for a successful call of
// the strace trace: a path and the Landlock right it needed (two rights
// joined by "|" when either will do, see straceAccesses).
type oracleAccess struct {
	path, right string
	line        string // the trace's line, for messages
}

// straceCall is one call of the trace, its unfinished and resumed halves
// joined.
type straceCall struct {
	pid       int
	name      string
	args      []string
	ret       int64
	ok        bool   // it returned, and not -1
	annotated string // the path -y gave the result (an open's file)
	line      string
}

var (
	straceLineRe = regexp.MustCompile(`^(\d+)\s+(.*)$`)
	straceCallRe = regexp.MustCompile(`^([a-z0-9_]+)\((.*)\)\s+= (-?\d+|\?)(?:<(.*)>)?(.*)$`)
	straceFDRe   = regexp.MustCompile(`^(?:AT_FDCWD|-?\d+)<(.*)>(?:\(deleted\))?$`)
)

// readStraceCalls reads the calls of an `strace -f -y` trace file.
func readStraceCalls(t *testing.T, file string) []straceCall {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var calls []straceCall
	pending := map[int]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		m := straceLineRe.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		pid, _ := strconv.Atoi(m[1])
		rest := m[2]
		if head, ok := strings.CutSuffix(rest, " <unfinished ...>"); ok {
			pending[pid] = head
			continue
		}
		if strings.HasPrefix(rest, "<... ") {
			_, tail, ok := strings.Cut(rest, " resumed>")
			if !ok {
				continue
			}
			rest = strings.TrimRight(pending[pid], " ") + tail
			delete(pending, pid)
		}
		c := straceCallRe.FindStringSubmatch(rest)
		if c == nil {
			continue // a signal, an exit, a note
		}
		call := straceCall{pid: pid, name: c[1], args: splitStraceArgs(c[2]), annotated: c[4], line: rest}
		if c[3] != "?" {
			call.ret, _ = strconv.ParseInt(c[3], 10, 64)
			call.ok = call.ret != -1
		}
		calls = append(calls, call)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return calls
}

// splitStraceArgs splits strace's argument list at its top-level commas.
func splitStraceArgs(s string) []string {
	var (
		out   []string
		depth int
		quote bool
		start int
	)
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case quote && ch == '\\':
			i++
		case ch == '"':
			quote = !quote
		case quote:
		case ch == '(' || ch == '[' || ch == '{' || ch == '<':
			depth++
		case ch == ')' || ch == ']' || ch == '}' || ch == '>':
			depth--
		case ch == ',' && depth == 0:
			out = append(out, strings.TrimSpace(s[start:i]))
			start = i + 1
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

// straceString decodes a quoted string argument of strace ("" when the
// argument is no string): C escapes, octal and hexadecimal bytes.
func straceString(a string) (string, bool) {
	if len(a) < 2 || a[0] != '"' {
		return "", false
	}
	s, _, _ := strings.Cut(a[1:], `"...`) // a truncated string ends so
	s = strings.TrimSuffix(s, `"`)
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch c := s[i]; {
		case c == 'n':
			b.WriteByte('\n')
		case c == 't':
			b.WriteByte('\t')
		case c == 'r':
			b.WriteByte('\r')
		case c == 'v':
			b.WriteByte('\v')
		case c == 'f':
			b.WriteByte('\f')
		case c == 'x' && i+2 < len(s):
			n, _ := strconv.ParseUint(s[i+1:i+3], 16, 8)
			b.WriteByte(byte(n))
			i += 2
		case c >= '0' && c <= '7':
			j := i
			for j < len(s) && j < i+3 && s[j] >= '0' && s[j] <= '7' {
				j++
			}
			n, _ := strconv.ParseUint(s[i:j], 8, 8)
			b.WriteByte(byte(n))
			i = j - 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}

// quoted is the quoted string s starts with ("..." with its escapes).
func quoted(s string) string {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return s[:i+1]
		}
	}
	return s
}

// fdPath is the path -y annotates a descriptor argument with
// (AT_FDCWD</cwd> or 3</dir>; 3</dir/#INODE>(deleted) for a file removed or
// without a name), "" for none or no path (a pipe, a socket).
func fdPath(a string) string {
	m := straceFDRe.FindStringSubmatch(a)
	if m == nil || !strings.HasPrefix(m[1], "/") {
		return ""
	}
	return m[1]
}

// oracleFiles is what the oracle knows of the files the run changed: the
// type (and a symlink's target) of each path under its roots as the run
// went (snapshot before the run, then each successful call), "" for none.
// Outside the roots the files are taken as they are after the run (system
// files the run did not change).
type oracleFiles struct {
	roots []string
	types map[string]string
	links map[string]string
}

// snapshotFiles records the paths under roots (symlinks resolved in the
// roots themselves), their types and the symlinks' targets, before the
// run.
func snapshotFiles(t *testing.T, roots ...string) *oracleFiles {
	t.Helper()
	f := &oracleFiles{types: map[string]string{}, links: map[string]string{}}
	for _, r := range roots {
		r, err := filepath.EvalSymlinks(r)
		if err != nil {
			t.Fatal(err)
		}
		f.roots = append(f.roots, r)
		err = filepath.WalkDir(r, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			f.types[p] = modeType(d.Type())
			if d.Type()&fs.ModeSymlink != 0 {
				if f.links[p], err = os.Readlink(p); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// The oracle's file types: fileio.Kind's names, and tReg.
const (
	tReg   = "regular file"
	tDir   = "directory"
	tSym   = "symbolic link"
	tFIFO  = "FIFO"
	tSock  = "socket"
	tChar  = "character device"
	tBlock = "block device"
)

// modeType is the oracle's type of a file of mode m.
func modeType(m fs.FileMode) string {
	if m.IsRegular() {
		return tReg
	}
	return fileio.Kind(m)
}

func (f *oracleFiles) inRoots(p string) bool {
	for _, r := range f.roots {
		if p == r || strings.HasPrefix(p, r+"/") {
			return true
		}
	}
	return false
}

// typeOf is the type of p at this point of the run, "" when absent.
func (f *oracleFiles) typeOf(p string) string {
	if f.inRoots(p) {
		return f.types[p]
	}
	// A file of a process gone by now: the same file of this one.
	st, err := os.Lstat(procPidRe.ReplaceAllString(p, "/proc/self$2"))
	if err != nil {
		return ""
	}
	return modeType(st.Mode())
}

// readlink is the target of the symlink p at this point of the run.
func (f *oracleFiles) readlink(p string) (string, bool) {
	if f.inRoots(p) {
		t, ok := f.links[p]
		return t, ok
	}
	t, err := os.Readlink(p)
	return t, err == nil
}

// set makes p of type typ, a symlink to link ("" removes p, and what was
// beneath it).
func (f *oracleFiles) set(p, typ, link string) {
	if !f.inRoots(p) {
		return
	}
	if typ == "" {
		for k := range f.types {
			if k == p || strings.HasPrefix(k, p+"/") {
				delete(f.types, k)
				delete(f.links, k)
			}
		}
		return
	}
	f.types[p] = typ
	if typ == tSym {
		f.links[p] = link
	}
}

// move moves what is at old (and beneath it) to new, replacing what was
// there; with exchange, what was at new moves to old.
func (f *oracleFiles) move(old, new string, exchange bool) {
	type ent struct{ typ, link string }
	moved := map[string]ent{}
	take := func(from, to string) {
		for k, v := range f.types {
			if k == from || strings.HasPrefix(k, from+"/") {
				moved[to+strings.TrimPrefix(k, from)] = ent{v, f.links[k]}
			}
		}
	}
	take(old, new)
	if exchange {
		take(new, old)
	}
	f.set(old, "", "")
	f.set(new, "", "")
	for k, v := range moved {
		f.set(k, v.typ, v.link)
	}
}

// resolve is the path the kernel resolves full to at this point of the
// run: each symlink of its directories (and of itself with follow)
// replaced by its target (an absolute one from the root), `..` taken
// after them, as the kernel walks a path. What is missing is joined
// lexically.
func (f *oracleFiles) resolve(full string, follow bool) string {
	return f.walk("/", strings.Split(full, "/"), follow, 0)
}

// walk resolves the components comps from the directory cur; depth
// counts the symlinks followed (the kernel stops at 40).
func (f *oracleFiles) walk(cur string, comps []string, follow bool, depth int) string {
	for i, c := range comps {
		switch c {
		case "", ".":
		case "..":
			cur = filepath.Dir(cur)
		default:
			next := filepath.Join(cur, c)
			last := i == len(comps)-1
			target, isLink := "", f.typeOf(next) == tSym
			if isLink {
				target, isLink = f.readlink(next)
			}
			if !isLink || (last && !follow) || depth >= 40 {
				cur = next
				continue
			}
			if filepath.IsAbs(target) {
				cur = "/"
			}
			return f.walk(cur, append(strings.Split(target, "/"), comps[i+1:]...), follow, depth+1)
		}
	}
	return cur
}

// makeRight and removeRight are the rights Landlock checks to make and
// remove a file of type typ (security/landlock/fs.c, get_mode_access and
// maybe_remove).
func makeRight(typ string) string {
	switch typ {
	case tDir:
		return "make_dir"
	case tSym:
		return "make_sym"
	case tFIFO:
		return "make_fifo"
	case tSock:
		return "make_sock"
	case tChar:
		return "make_char"
	case tBlock:
		return "make_block"
	}
	return "make_reg"
}

func removeRight(typ string) string {
	if typ == tDir {
		return "remove_dir"
	}
	return "remove_file"
}

// modeArgType is the type a mknod mode argument (S_IFIFO|0644) makes.
func modeArgType(a string) string {
	for _, c := range []struct{ flag, typ string }{{"S_IFIFO", tFIFO}, {"S_IFSOCK", tSock}, {"S_IFCHR", tChar}, {"S_IFBLK", tBlock}, {"S_IFDIR", tDir}} {
		if strings.Contains(a, c.flag) {
			return c.typ
		}
	}
	return tReg
}

// straceAccesses maps every successful call of the trace that Landlock
// governs to the rights the kernel checked for it, as security/landlock/fs.c
// checks them:
//
//   - open, openat, openat2, creat: read_file (read_dir for a directory)
//     when opened for reading, write_file for writing, at the path -y gives
//     the descriptor it returned; make_reg when it created the file:
//     strace cannot tell creation from opening, so a file is taken as
//     created when O_CREAT found nothing there, by what the oracle knows
//     of the run's roots (snapshot before the run, then every call of the
//     trace); truncate with O_TRUNC on a regular file it did not create
//     (the kernel truncates, and Landlock checks, only then). O_PATH is
//     no access. A file read that is gone after the run, outside the
//     roots, whose type cannot be told: read_file or read_dir.
//   - execve, execveat: execute and read_file of the file, of a script's
//     `#!` interpreter, and of the ELF interpreter (PT_INTERP) of the
//     executable, which the kernel opens for execution too.
//   - mkdir(at): make_dir; mknod(at): make_* by the mode's type;
//     symlink(at): make_sym at the new name.
//   - unlink(at): remove_file, AT_REMOVEDIR and rmdir: remove_dir.
//   - rename(at,at2): remove_* at the old name and make_* at the new one
//     by the moved file's type; both ways with RENAME_EXCHANGE; refer on
//     both when their directories differ; and remove_* at the new name of
//     a rename without RENAME_NOREPLACE or RENAME_EXCHANGE: Landlock checks
//     it when the rename replaces an entry, which profgen records for every
//     such rename (docs/recording.md#paths), so the oracle requires it of
//     every one.
//   - link(at): make_* at the new name by the linked file's type; refer
//     on both when their directories differ.
//   - truncate: truncate.
//   - bind of a UNIX socket to a path: make_sock (the kernel makes the
//     socket's file).
//
// Relative names are joined with the directory -y annotates their
// directory descriptor with (AT_FDCWD: the cwd, as the kernel has it);
// the calls without one (mkdir, unlink, rename ...) with the process's
// cwd as the oracle follows it: the last AT_FDCWD annotation of the
// process or of one sharing its cwd (CLONE_FS), chdir, fchdir, and fork
// inheriting its parent's; a process whose cwd is unknown yet has
// start's. The symlinks of a name are resolved after the run
// (resolveName).
//
// What strace cannot tell without guessing is left out and counted in
// skipped, which the caller logs: a name relative to a cwd the oracle does
// not know, a rename or link of a file whose type is gone, an O_TMPFILE
// open (no name: Landlock checks no make_reg for it), a call after chroot
// (paths are then relative to another root). Calls of the file class that
// Landlock does not govern are no access: stat, access, readlink, chmod,
// chown, utimes, xattrs, statfs, inotify and fanotify marks, chdir itself,
// mount, umount, pivot_root, swapon, acct, quotactl.
func straceAccesses(t *testing.T, file, start string, files *oracleFiles) (out []oracleAccess, skipped map[string]int) {
	t.Helper()
	calls := readStraceCalls(t, file)
	skipped = map[string]int{}
	// The parent of each process, and whether it shares the parent's cwd.
	type parentOf struct {
		pid    int
		sameFS bool
	}
	parents := map[int]parentOf{}
	for _, c := range calls {
		switch c.name {
		case "clone", "clone3", "fork", "vfork":
			if c.ok && c.ret > 0 {
				parents[int(c.ret)] = parentOf{c.pid, strings.Contains(strings.Join(c.args, ","), "CLONE_FS")}
			}
		}
	}
	cwds := map[int]*string{}
	var cwdOf func(pid int) *string
	cwdOf = func(pid int) *string {
		if p, ok := cwds[pid]; ok {
			return p
		}
		var cwd *string
		if par, ok := parents[pid]; ok && par.pid != pid {
			pc := cwdOf(par.pid)
			if par.sameFS {
				cwd = pc
			} else {
				s := *pc
				cwd = &s
			}
		} else {
			s := start
			cwd = &s
		}
		cwds[pid] = cwd
		return cwd
	}
	add := func(c straceCall, path, right string) {
		out = append(out, oracleAccess{path: path, right: right, line: strconv.Itoa(c.pid) + " " + c.line})
	}
	// dirArg is the directory of a name at args[i] (the descriptor at
	// args[i-1] for the *at calls), "" when unknown.
	dirArg := func(c straceCall, at bool, i int) (string, bool) {
		name, ok := straceString(c.args[i])
		if !ok {
			return "", false
		}
		if strings.HasPrefix(name, "/") {
			return name, true
		}
		dir := *cwdOf(c.pid)
		if at {
			dir = fdPath(c.args[i-1])
		}
		if dir == "" {
			return "", false
		}
		return resolveArg(dir, name), true
	}
	chrooted := map[int]bool{}
	for _, c := range calls {
		for _, a := range c.args {
			if strings.HasPrefix(a, "AT_FDCWD<") {
				if d := fdPath(a); d != "" {
					*cwdOf(c.pid) = d
				}
			}
		}
		if !c.ok {
			continue
		}
		inChroot := false
		for pid, n := c.pid, 0; n < 64 && !inChroot; n++ { // the process or an ancestor
			inChroot = chrooted[pid]
			par, ok := parents[pid]
			if !ok {
				break
			}
			pid = par.pid
		}
		if inChroot {
			skipped["a call after chroot"]++
			continue
		}
		// name is the full path of the name at args[i], resolved with
		// follow, or ok false (counted as skipped).
		name := func(i int, at, follow bool) (string, bool) {
			if i >= len(c.args) {
				skipped[c.name+": an argument missing"]++
				return "", false
			}
			p, ok := dirArg(c, at, i)
			if !ok {
				skipped[c.name+": a name relative to an unknown directory"]++
				return "", false
			}
			return files.resolve(p, follow), true
		}
		switch c.name {
		case "chroot":
			chrooted[c.pid] = true
		case "chdir":
			if p, ok := name(0, false, true); ok {
				*cwdOf(c.pid) = p
			}
		case "fchdir":
			if d := fdPath(c.args[0]); d != "" {
				*cwdOf(c.pid) = d
			}
		case "open", "openat", "openat2", "creat":
			path := c.annotated
			if !strings.HasPrefix(path, "/") {
				continue // no path: a pipe, a socket, an anonymous inode
			}
			var flags string
			switch c.name {
			case "open":
				flags = c.args[1]
			case "openat":
				flags = c.args[2]
			case "openat2":
				if _, f, ok := strings.Cut(c.args[2], "flags="); ok {
					flags, _, _ = strings.Cut(f, ",")
				}
			case "creat":
				flags = "O_WRONLY|O_CREAT|O_TRUNC"
			}
			fl := map[string]bool{}
			for _, f := range strings.Split(flags, "|") {
				fl[f] = true
			}
			if fl["O_TMPFILE"] {
				// A file without a name: Landlock checks no make_reg,
				// and its rights at open are on a path strace shows as
				// "DIR/#INODE (deleted)", which no recording can name.
				// It may be linked later (linkat AT_EMPTY_PATH).
				files.set(path, tReg, "")
				skipped["an O_TMPFILE open"]++
				continue
			}
			if fl["O_PATH"] {
				continue
			}
			typ := files.typeOf(path)
			created := fl["O_CREAT"] && (fl["O_EXCL"] || typ == "")
			if created {
				typ = tReg
				files.set(path, typ, "")
				add(c, path, "make_reg")
			}
			if typ == "" && !files.inRoots(path) {
				typ = "?"
			}
			read := "read_file"
			switch typ {
			case tDir:
				read = "read_dir"
			case "?":
				read = "read_file|read_dir"
			}
			switch {
			case fl["O_RDWR"]:
				add(c, path, read)
				add(c, path, "write_file")
			case fl["O_WRONLY"]:
				add(c, path, "write_file")
			default:
				add(c, path, read)
			}
			if fl["O_TRUNC"] && !created && typ == tReg {
				add(c, path, "truncate")
			}
		case "execve", "execveat":
			var exe string
			if c.name == "execveat" && strings.Contains(c.args[len(c.args)-1], "AT_EMPTY_PATH") && c.args[1] == `""` {
				exe = fdPath(c.args[0])
			} else if c.name == "execve" {
				exe, _ = name(0, false, true)
			} else {
				exe, _ = name(1, true, true)
			}
			if exe == "" {
				continue
			}
			for _, p := range execChain(files, exe) {
				add(c, p, "execute")
				add(c, p, "read_file")
			}
		case "mkdir", "mkdirat", "mknod", "mknodat", "symlink", "symlinkat":
			var (
				p   string
				ok  bool
				typ = tDir
			)
			switch c.name {
			case "mkdir":
				p, ok = name(0, false, false)
			case "mkdirat":
				p, ok = name(1, true, false)
			case "mknod":
				p, ok = name(0, false, false)
				typ = modeArgType(c.args[1])
			case "mknodat":
				p, ok = name(1, true, false)
				typ = modeArgType(c.args[2])
			case "symlink":
				p, ok = name(1, false, false)
				typ = tSym
			case "symlinkat":
				p, ok = name(2, true, false)
				typ = tSym
			}
			if ok {
				add(c, p, makeRight(typ))
				target, _ := straceString(c.args[0])
				files.set(p, typ, target)
			}
		case "unlink", "unlinkat", "rmdir":
			var (
				p   string
				ok  bool
				typ = tReg
			)
			switch c.name {
			case "unlink":
				p, ok = name(0, false, false)
			case "rmdir":
				p, ok = name(0, false, false)
				typ = tDir
			case "unlinkat":
				p, ok = name(1, true, false)
				if strings.Contains(c.args[2], "AT_REMOVEDIR") {
					typ = tDir
				}
			}
			if ok {
				add(c, p, removeRight(typ))
				files.set(p, "", "")
			}
		case "rename", "renameat", "renameat2", "link", "linkat":
			var (
				old, new    string
				ok1, ok2    bool
				flags       string
				followOld   bool
				at          = c.name != "rename" && c.name != "link"
				oldI, newI  = 0, 1
				isRename    = strings.HasPrefix(c.name, "rename")
				oldT, destT string
			)
			if at {
				oldI, newI = 1, 3
				if len(c.args) > 4 {
					flags = c.args[4]
				}
			}
			followOld = !isRename && strings.Contains(flags, "AT_SYMLINK_FOLLOW")
			old, ok1 = name(oldI, at, followOld)
			new, ok2 = name(newI, at, false)
			if !ok1 || !ok2 {
				continue
			}
			oldT, destT = files.typeOf(old), files.typeOf(new)
			if isRename && oldT == "" {
				oldT = destT // gone before the oracle read it: it is at new now
			}
			if oldT == "" {
				skipped[c.name+": the file's type is gone"]++
				continue
			}
			exchange := strings.Contains(flags, "RENAME_EXCHANGE")
			if isRename {
				add(c, old, removeRight(oldT))
				if !strings.Contains(flags, "RENAME_NOREPLACE") && !exchange {
					add(c, new, removeRight(oldT))
				}
				if exchange && destT != "" {
					add(c, new, removeRight(destT))
					add(c, old, makeRight(destT))
				}
			}
			add(c, new, makeRight(oldT))
			if filepath.Dir(old) != filepath.Dir(new) {
				add(c, old, "refer")
				add(c, new, "refer")
			}
			switch {
			case exchange:
				files.move(old, new, true)
			case isRename:
				files.move(old, new, false)
			default:
				link, _ := files.readlink(old)
				files.set(new, oldT, link)
			}
		case "truncate":
			if p, ok := name(0, false, true); ok {
				add(c, p, "truncate")
			}
		case "bind":
			// A UNIX socket bound to a path makes its file (unix_bind:
			// Landlock's make_sock); an abstract one (sun_path=@"...")
			// has none.
			if len(c.args) < 2 || !strings.Contains(c.args[1], "AF_UNIX") {
				continue
			}
			_, sun, ok := strings.Cut(c.args[1], "sun_path=")
			if !ok || !strings.HasPrefix(sun, `"`) {
				continue
			}
			c.args[1] = quoted(sun)
			if p, ok := name(1, false, false); ok {
				add(c, p, makeRight(tSock))
				files.set(p, tSock, "")
			}
		}
	}
	return out, skipped
}

// resolveArg joins a relative name with its directory, unresolved: `..`
// is kept for resolveName.
func resolveArg(dir, name string) string {
	return strings.TrimSuffix(dir, "/") + "/" + name
}

// execChain is what an execve of exe opens for execution: exe, a script's
// `#!` interpreter (and its own), and the ELF interpreter of the
// executable the kernel runs, each resolved.
func execChain(files *oracleFiles, exe string) []string {
	chain := []string{exe}
	for range 4 { // the kernel nests at most 4 interpreters (BINPRM_MAX_RECURSION)
		b := make([]byte, 256)
		f, err := os.Open(exe)
		if err != nil {
			break
		}
		n, _ := f.Read(b)
		f.Close()
		b = b[:n]
		if rest, ok := bytes.CutPrefix(b, []byte("#!")); ok {
			line, _, _ := bytes.Cut(rest, []byte("\n"))
			fields := strings.Fields(string(line))
			if len(fields) == 0 {
				break
			}
			exe = files.resolve(fields[0], true)
			chain = append(chain, exe)
			continue
		}
		ef, err := elf.Open(exe)
		if err != nil {
			break
		}
		for _, p := range ef.Progs {
			if p.Type == elf.PT_INTERP {
				interp := make([]byte, p.Filesz)
				if _, err := p.ReadAt(interp, 0); err == nil {
					chain = append(chain, files.resolve(string(bytes.TrimRight(interp, "\x00")), true))
				}
			}
		}
		ef.Close()
		break
	}
	return chain
}

// procPidRe matches the process (and thread) of a /proc path, which
// differ between two runs.
var procPidRe = regexp.MustCompile(`^/proc/\d+(/task/\d+)?(/|$)`)

// checkCovered checks that every access of the oracle is in the landlock
// section as done (ok > 0) with its right, on the same path after norm (a
// test's names that differ between runs; /proc/PID's process always).
func checkCovered(t *testing.T, sec *recording.Landlock, want []oracleAccess, norm func(string) string) {
	t.Helper()
	n := func(p string) string {
		p = procPidRe.ReplaceAllString(p, "/proc/PID$2")
		if norm != nil {
			p = norm(p)
		}
		return p
	}
	have := map[[2]string]uint64{}
	for _, a := range sec.Accesses {
		have[[2]string{n(a.Path), a.Right}] += a.OK
	}
	missing := map[[2]string]string{}
	for _, w := range want {
		p := n(w.path)
		covered := false
		for _, r := range strings.Split(w.right, "|") {
			covered = covered || have[[2]string{p, r}] > 0
		}
		if !covered {
			if _, ok := missing[[2]string{p, w.right}]; !ok {
				missing[[2]string{p, w.right}] = w.line
			}
		}
	}
	for k, line := range missing {
		var rec []string
		for _, a := range sec.Accesses {
			if n(a.Path) == k[0] {
				rec = append(rec, fmt.Sprintf("%s ok=%d failed=%d", a.Right, a.OK, a.Failed))
			}
		}
		t.Errorf("strace shows %s needing %s (%s); the recording has %v", k[0], k[1], line, rec)
	}
}

// straceRun runs argv to its end under strace (straceArgs) and returns
// what the oracle makes of its trace, roots being the directories the run
// changes, and logs what it skipped.
func straceRun(t *testing.T, argv []string, roots ...string) []oracleAccess {
	t.Helper()
	out := filepath.Join(t.TempDir(), "strace.out")
	files := snapshotFiles(t, roots...)
	if _, err := workload.Strace(t, argv, workload.WithStraceArgs(straceArgs...), workload.WithTraceFile(out)); err != nil {
		t.Fatalf("strace: %v", err)
	}
	return oracleOf(t, out, files)
}

// oracleOf reads a trace of straceArgs into the oracle's accesses.
func oracleOf(t *testing.T, out string, files *oracleFiles) []oracleAccess {
	t.Helper()
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	want, skipped := straceAccesses(t, out, cwd, files)
	if len(want) == 0 {
		t.Fatalf("the oracle found no access in %s", out)
	}
	t.Logf("oracle: %d accesses in %s", len(want), out)
	for why, n := range skipped {
		t.Logf("oracle: %d calls left out: %s", n, why)
	}
	return want
}

// pathServer is a server checked against the path oracle: recorded with
// paths serving its drive, then run again the same way under strace
// (started, ready when addr accepts connections, driven, stopped by
// SIGTERM as Record stops it), and every access the oracle finds in the
// trace must be in the recording with its right.
type pathServer struct {
	// layout lays the server's files out afresh, under roots (its
	// directories, which the runs change), and returns its command.
	layout func(t *testing.T) []string
	roots  []string
	addr   string // host:port
	drive  string // a shell command
	// norm maps the names that differ between the two runs (a temporary
	// file named by its pid) to one.
	norm func(string) string
}

// check runs the server both ways and returns its landlock section.
func (s pathServer) check(t *testing.T) *recording.Landlock {
	t.Helper()
	sec := recordPaths(t, Options{Command: s.layout(t), Drive: s.drive, Ready: "tcp:" + s.addr})
	emptyDirs(t, s.roots...)
	argv := s.layout(t)
	files := snapshotFiles(t, s.roots...)
	out := filepath.Join(t.TempDir(), "strace.out")
	run, err := workload.StartStrace(t, argv, workload.WithStraceArgs(straceArgs...), workload.WithTraceFile(out))
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", s.addr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s under strace never listened on %s", argv[0], s.addr)
		}
	}
	if b, err := exec.Command("sh", "-c", s.drive).CombinedOutput(); err != nil {
		t.Errorf("drive under strace: %v\n%s", err, b)
	}
	if err := run.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if _, err := run.Wait(); err != nil {
		t.Logf("%s under strace: %v", argv[0], err)
	}
	checkCovered(t, sec, oracleOf(t, out, files), s.norm)
	return sec
}

// recordPaths records opts's command (Backend: the eBPF backend with
// paths) and returns its landlock section; the run (or, with Drive, the
// driver) must succeed.
func recordPaths(t *testing.T, opts Options) *recording.Landlock {
	t.Helper()
	opts.Backend = newTestEBPF(t, EBPFOptions{Paths: true})
	res, err := Record(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != 0 || res.DriverErr != nil {
		t.Fatalf("recorded run exited %d (driver: %v)", res.ExitCode, res.DriverErr)
	}
	raw, ok := res.Recording.Sections[recording.LandlockKind]
	if !ok {
		t.Fatalf("no landlock section: %q", res.Recording.Notes)
	}
	sec, err := recording.ParseLandlock(raw)
	if err != nil {
		t.Fatalf("landlock section: %v", err)
	}
	return sec
}

// emptyDirs removes what is in each of dirs: the run under strace starts
// from what the recorded run started from.
func emptyDirs(t *testing.T, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		ents, err := os.ReadDir(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if err := os.RemoveAll(filepath.Join(d, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
}
