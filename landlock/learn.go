package landlock

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	ll "github.com/profgen/profgen/internal/landlock"
	"github.com/profgen/profgen/recording"
)

// Options adjust Learn.
type Options struct {
	// MinEntries is how many distinct entries of one directory a program
	// must have read for the directory to become a readable hierarchy;
	// 0 means DefaultMinEntries.
	MinEntries int
	// WholeTree is how many distinct top-level directories a program
	// that listed / must have read beneath for / to become readable; 0
	// means DefaultWholeTree.
	WholeTree int
}

// Defaults of Options.
const (
	DefaultMinEntries = 4
	DefaultWholeTree  = 12
)

// NoHierarchy are directories that never become a hierarchy of their own,
// however many of their entries a program read: every top-level
// directory, and these, whose entries belong to other programs or hold
// secrets. Their entries are granted one by one.
var NoHierarchy = []string{"/var/lib", "/var/log", "/var/spool", "/var/tmp", "/var/cache", "/var/mail", "/run/user", "/etc/ssl/private", "/proc", "/sys/fs"}

// parentRights are the rights the kernel checks on the directory that
// holds the entry made or removed (or renamed or linked: refer): a
// recording names the entry, the rule names its parent.
var parentRights = []string{"remove_dir", "remove_file", "make_char", "make_dir", "make_reg", "make_sock", "make_fifo", "make_block", "make_sym", "refer"}

// readRights are the rights a read-only hierarchy may hold.
var readRights = []string{"read_file", "read_dir"}

var procPid = regexp.MustCompile(`^/proc/[0-9]+(/|$)`)

// grant is what Learn grants on one target path while it generalises.
type grant struct {
	rights map[string]bool
	why    []string
}

// learner holds the grants by target.
type learner struct {
	opts   Options
	grants map[string]*grant
	notes  []string
}

func (l *learner) add(target, right, why string) {
	g := l.grants[target]
	if g == nil {
		g = &grant{rights: map[string]bool{}}
		l.grants[target] = g
	}
	g.rights[right] = true
	if why != "" && !slices.Contains(g.why, why) {
		g.why = append(g.why, why)
	}
}

// Learn generalises a recording's landlock section into a ruleset by the
// rules of docs/landlock.md:
//
//  1. only accesses that succeeded are granted; failed ones (ENOENT
//     probes, refusals) are counted in a note;
//  2. a right checked on the parent directory (make_*, remove_*, refer)
//     is granted on the parent of the entry recorded;
//  3. what the program created (make_* seen on the entry) did not exist
//     when the ruleset was made, and Landlock rules name what exists:
//     the rights used on and beneath a created entry are granted on the
//     parent of the topmost entry created (/tmp/x made by the program:
//     its rights beneath /tmp; /tmp/y that only existed: /tmp/y alone);
//  4. /proc/PID/... (the program's own pid, another one each run) is
//     granted as /proc;
//  5. a directory with at least MinEntries distinct entries read becomes
//     a readable hierarchy (read_file, read_dir; execute too when that
//     many entries were executed), bottom up, never at the top level nor
//     in NoHierarchy; writes, and executes below the threshold, stay on
//     the exact files;
//  6. / becomes readable only when the program listed / and read beneath
//     WholeTree top-level directories, and a note says so;
//  7. TCP ports exactly as seen; every right of the kernel's ABI is
//     handled, and the scopes the program did not use are set.
func Learn(sec *recording.Landlock, opts Options) (*Ruleset, error) {
	if opts.MinEntries <= 0 {
		opts.MinEntries = DefaultMinEntries
	}
	if opts.WholeTree <= 0 {
		opts.WholeTree = DefaultWholeTree
	}
	l := &learner{opts: opts, grants: map[string]*grant{}}

	created := map[string]bool{}
	failed := map[string]uint64{}
	for _, a := range sec.Accesses {
		if a.OK > 0 && strings.HasPrefix(a.Right, "make_") {
			created[a.Path] = true
		}
	}
	for _, a := range sec.Accesses {
		if a.OK == 0 {
			failed[a.Right] += a.Failed
			continue
		}
		target, why := Target(a), ""
		if top := topCreated(target, created); top != "" {
			why = fmt.Sprintf("%s was created by the program: what it used there is granted on %s", top, path.Dir(top))
			target = path.Dir(top)
		}
		if procPid.MatchString(target) {
			why = "/proc/PID is the program's own, another pid each run: granted as /proc"
			target = "/proc"
		}
		l.add(target, a.Right, why)
	}
	l.collapse(sec)

	r := &Ruleset{
		HandledFS:  ll.Names(ll.Rights, ll.All(ll.Rights, 7)),
		HandledNet: ll.Names(ll.NetRights, ll.All(ll.NetRights, 7)),
	}
	if sec.AbstractUnix == 0 {
		r.Scoped = append(r.Scoped, "abstract_unix_socket")
	} else {
		l.notes = append(l.notes, fmt.Sprintf("abstract UNIX sockets outside the domain are not scoped: the program connected to them %d times", sec.AbstractUnix))
	}
	if sec.SignalsOutside == 0 {
		r.Scoped = append(r.Scoped, "signal")
	} else {
		l.notes = append(l.notes, fmt.Sprintf("signals are not scoped: the program signalled processes outside its tree %d times", sec.SignalsOutside))
	}
	targets := make([]string, 0, len(l.grants))
	for t := range l.grants {
		targets = append(targets, t)
	}
	sort.Strings(targets)
	for _, t := range targets {
		g := l.grants[t]
		var rights []string
		for _, right := range recording.LandlockRights {
			if g.rights[right] {
				rights = append(rights, right)
			}
		}
		if len(rights) == 0 {
			continue
		}
		r.Rules = append(r.Rules, Rule{Path: t, Rights: rights, Why: strings.Join(g.why, "; ")})
	}
	for _, p := range sec.TCPBind {
		r.Bind = append(r.Bind, uint64(p.Port))
	}
	for _, p := range sec.TCPConnect {
		r.Connect = append(r.Connect, uint64(p.Port))
	}
	if n := sumFailed(failed); n > 0 {
		var parts []string
		for _, right := range recording.LandlockRights {
			if failed[right] > 0 {
				parts = append(parts, fmt.Sprintf("%s %d", right, failed[right]))
			}
		}
		l.notes = append(l.notes, fmt.Sprintf("%d failed accesses not granted (%s): the kernel refused them when recorded; under the ruleset a refused creation may fail with EACCES instead of its own error", n, strings.Join(parts, ", ")))
	}
	for _, u := range sec.Unresolved {
		l.notes = append(l.notes, fmt.Sprintf("%d accesses of %s not resolved (%s): not granted, the ruleset may refuse them", u.Count, u.Syscall, u.Reason))
	}
	l.notes = append(l.notes, reachNotes(r, sec)...)
	r.Notes = l.notes
	if err := r.validate(); err != nil {
		return nil, err
	}
	return r, nil
}

func sumFailed(m map[string]uint64) uint64 {
	var n uint64
	for _, v := range m {
		n += v
	}
	return n
}

// topCreated returns the topmost of p and its parents that the program
// created, or "".
func topCreated(p string, created map[string]bool) string {
	top := ""
	for q := p; q != "/" && q != "."; q = path.Dir(q) {
		if created[q] {
			top = q
		}
	}
	return top
}

// collapse turns directories with many entries read into hierarchies
// (rules 5 and 6).
func (l *learner) collapse(sec *recording.Landlock) {
	// Every directory that is a parent of a target, deepest first.
	dirs := map[string]bool{}
	for t := range l.grants {
		for q := path.Dir(t); q != "/"; q = path.Dir(q) {
			dirs[q] = true
		}
	}
	order := make([]string, 0, len(dirs))
	for d := range dirs {
		order = append(order, d)
	}
	sort.Slice(order, func(i, j int) bool {
		if di, dj := strings.Count(order[i], "/"), strings.Count(order[j], "/"); di != dj {
			return di > dj
		}
		return order[i] < order[j]
	})
	for _, d := range order {
		if strings.Count(d, "/") < 2 || slices.Contains(NoHierarchy, d) || strings.HasPrefix(d, "/proc/") {
			continue
		}
		var read, exec []string
		for t, g := range l.grants {
			if path.Dir(t) != d {
				continue
			}
			if g.rights["read_file"] || g.rights["read_dir"] {
				read = append(read, path.Base(t))
			}
			if g.rights["execute"] {
				exec = append(exec, path.Base(t))
			}
		}
		if len(read) < l.opts.MinEntries {
			continue
		}
		sort.Strings(read)
		why := fmt.Sprintf("%d entries read (%s): read beneath %s", len(read), abbrev(read), d)
		moved := slices.Clone(readRights)
		if len(exec) >= l.opts.MinEntries {
			moved = append(moved, "execute")
			why += fmt.Sprintf(", and %d executed: execute beneath it", len(exec))
		}
		for _, right := range moved {
			l.add(d, right, why)
		}
		for t, g := range l.grants {
			if t != d && within(t, d) {
				for _, right := range moved {
					delete(g.rights, right)
				}
				if len(g.rights) == 0 {
					delete(l.grants, t)
				}
			}
		}
	}
	l.whole(sec)
}

// whole grants / read when the program listed / and read beneath many
// top-level directories (rule 6).
func (l *learner) whole(sec *recording.Landlock) {
	listed := false
	tops := map[string]bool{}
	for _, a := range sec.Accesses {
		if a.OK == 0 || (a.Right != "read_file" && a.Right != "read_dir") {
			continue
		}
		if a.Path == "/" {
			listed = listed || a.Right == "read_dir"
			continue
		}
		tops[strings.SplitN(a.Path, "/", 3)[1]] = true
	}
	if !listed || len(tops) < l.opts.WholeTree {
		return
	}
	why := fmt.Sprintf("the program listed / and read beneath %d top-level directories: read beneath / (everything readable, /etc/shadow too)", len(tops))
	for _, right := range readRights {
		l.add("/", right, why)
	}
	for t, g := range l.grants {
		if t != "/" {
			for _, right := range readRights {
				delete(g.rights, right)
			}
			if len(g.rights) == 0 {
				delete(l.grants, t)
			}
		}
	}
	l.notes = append(l.notes, why)
}

// abbrev lists up to four names.
// writeRights are the rights that change the tree beneath a rule.
var writeRights = []string{"write_file", "remove_dir", "remove_file", "make_char", "make_dir", "make_reg", "make_sock", "make_fifo", "make_block", "make_sym", "refer", "truncate"}

// reachNotes warns where a rule that changes the tree reaches directories
// the program only read: Landlock grants a rule's rights beneath it, so
// make_reg on /srv (for a pid file) lets the program create files in
// /srv/www, which it only served. No ruleset can tell them apart; the note
// says where to separate them (docs/landlock.md#recording).
func reachNotes(r *Ruleset, sec *recording.Landlock) []string {
	changed := map[string]bool{} // paths (and their parents) the program changed
	for _, a := range sec.Accesses {
		if a.OK > 0 && slices.Contains(writeRights, a.Right) {
			for p := a.Path; p != "/" && p != "."; p = path.Dir(p) {
				changed[p] = true
			}
		}
	}
	var notes []string
	for _, rule := range r.Rules {
		var writes []string
		for _, right := range rule.Rights {
			if slices.Contains(writeRights, right) {
				writes = append(writes, right)
			}
		}
		if len(writes) == 0 {
			continue
		}
		seen := map[string]bool{}
		var reached []string
		for _, a := range sec.Accesses {
			rel, ok := strings.CutPrefix(a.Path, rule.Path+"/")
			if !ok || a.OK == 0 || rule.Path == "/" {
				continue
			}
			first, _, _ := strings.Cut(rel, "/")
			child := rule.Path + "/" + first
			if first == rel || seen[child] || changed[child] {
				continue // a file of the rule's own directory, or a changed tree
			}
			seen[child] = true
			reached = append(reached, child)
		}
		if len(reached) > 0 {
			sort.Strings(reached)
			notes = append(notes, fmt.Sprintf("%s granted beneath %s reaches %s, where the program only read: keep what it creates apart from what it reads (docs/landlock.md#recording)",
				strings.Join(writes, ","), rule.Path, abbrev(reached)))
		}
	}
	return notes
}

func abbrev(names []string) string {
	if len(names) <= 4 {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:4], ", ") + fmt.Sprintf(", and %d more", len(names)-4)
}

// FromRecording learns the ruleset of a recording's landlock section
// (Learn); a recording without one is an error that says how to get one.
func FromRecording(rec *recording.Recording, opts Options) (*Ruleset, error) {
	raw, ok := rec.Sections[recording.LandlockKind]
	if !ok {
		return nil, fmt.Errorf("the recording has no %s section: record with the eBPF backend (record --backend ebpf; the log backend records no paths)", recording.LandlockKind)
	}
	sec, err := recording.ParseLandlock(raw)
	if err != nil {
		return nil, fmt.Errorf("section %s: %w", recording.LandlockKind, err)
	}
	return Learn(sec, opts)
}

// Target is the path the kernel checks a recorded access's right on: the
// entry's directory for a right checked on the directory (make_*,
// remove_*, refer), the path itself otherwise.
func Target(a recording.LandlockAccess) string {
	if slices.Contains(parentRights, a.Right) && a.Path != "/" {
		return path.Dir(a.Path)
	}
	return a.Path
}
