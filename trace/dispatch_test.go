package trace

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/profgen/profgen/internal/cgroup"
	"github.com/profgen/profgen/internal/workload"
	"github.com/profgen/profgen/recording"
	"github.com/profgen/profgen/trace/dispatch"
)

// attachHelperEnv makes the test binary a recorder of its own (another
// process): "CGROUP:READY:OUT[:auto]" attaches to CGROUP (sharing the
// dispatcher even alone, or with auto as a recording does by default),
// writes "shared", "solo" or "own: REASON" to READY once it records, and
// the recording to OUT once the cgroup is empty.
const attachHelperEnv = "PROFGEN_TEST_ATTACH_HELPER"

func attachHelper(v string) int {
	f := strings.Split(v, ":")
	if len(f) != 3 && (len(f) != 4 || f[3] != "auto") {
		fmt.Fprintf(os.Stderr, "%s=%q: want CGROUP:READY:OUT[:auto]\n", attachHelperEnv, v)
		return 2
	}
	e, err := NewEBPF(EBPFOptions{Share: len(f) == 3})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer e.Close()
	a, err := Attach(AttachOptions{Cgroup: f[0], Backend: e, Tool: "test"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	state := "shared"
	switch {
	case e.solo != nil:
		state = "solo"
	case e.slot == nil:
		state = fmt.Sprintf("own: %v", e.shareErr)
	}
	if err := os.WriteFile(f[1], []byte(state), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for a.Populated() {
		time.Sleep(5 * time.Millisecond)
	}
	rec, _, err := a.Finish(false)
	if err == nil {
		err = rec.WriteFile(f[2])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// waitingCgroup is a cgroup with a shell in it that waits on a fifo, then
// execs manycalls N (N getppid calls): a container waiting in runc init.
type waitingCgroup struct {
	cg   *Cgroup
	sh   *exec.Cmd
	fifo string
	n    int
}

func newWaitingCgroup(t *testing.T, parent string, n int) *waitingCgroup {
	t.Helper()
	bin := workload.Build(t, "manycalls")
	var cg *Cgroup
	var err error
	if parent == "" {
		cg, err = cgroup.New()
	} else {
		path := filepath.Join(parent, "sub")
		if err = os.Mkdir(path, 0o755); err == nil {
			cg, err = cgroup.Open(path)
			t.Cleanup(func() { os.Remove(path) })
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(t.TempDir(), "go")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	sh := exec.Command("/bin/sh", "-c", `read x < "$1"; exec "$2" "$3"`, "sh", fifo, bin, strconv.Itoa(n))
	sh.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: cg.FD()}
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	w := &waitingCgroup{cg: cg, sh: sh, fifo: fifo, n: n}
	t.Cleanup(func() {
		sh.Process.Kill()
		sh.Wait()
		if parent == "" {
			cg.Close()
		} else {
			cg.Release()
		}
	})
	return w
}

// run lets the shell exec manycalls and waits for it.
func (w *waitingCgroup) run(t *testing.T) {
	t.Helper()
	if err := os.WriteFile(w.fifo, []byte("go\n"), 0); err != nil {
		t.Fatal(err)
	}
	if err := w.sh.Wait(); err != nil {
		t.Fatalf("manycalls %d: %v", w.n, err)
	}
}

// check fails unless rec counted exactly the workload's calls.
func (w *waitingCgroup) check(t *testing.T, what string, rec *recording.Recording) {
	t.Helper()
	if s := rec.Lookup("getppid"); s == nil || s.Count != uint64(w.n) {
		t.Errorf("%s: getppid %+v, want count %d", what, s, w.n)
	}
	if s := rec.Lookup("execve"); s == nil || s.Count != 1 {
		t.Errorf("%s: execve %+v, want 1", what, s)
	}
	if rec.Lost != 0 {
		t.Errorf("%s: lost %d", what, rec.Lost)
	}
}

// sysEnterLinks returns how many raw tracepoint links of the machine run
// the dispatcher and how many run a recorder's profgen_enter.
func sysEnterLinks(t *testing.T) (dispatchers, recorders int) {
	t.Helper()
	var it link.Iterator
	defer it.Close()
	for it.Next() {
		info, err := it.Link.Info()
		if err != nil || info.Type != link.RawTracepointType {
			continue
		}
		p, err := ebpf.NewProgramFromID(info.Program)
		if err != nil {
			continue
		}
		pi, err := p.Info()
		p.Close()
		if err != nil {
			continue
		}
		switch {
		case dispatch.IsDispatcherName(pi.Name):
			dispatchers++
		case pi.Name == "profgen_enter":
			recorders++
		}
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return dispatchers, recorders
}

// waitSysEnterLinks waits up to 5 s (links are released after an RCU grace
// period) for the machine's links to be as wanted.
func waitSysEnterLinks(t *testing.T, what string, dispatchers, recorders int) {
	t.Helper()
	var d, r int
	for i := 0; i < 500; i++ {
		if d, r = sysEnterLinks(t); d == dispatchers && r == recorders {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("%s: %d dispatcher and %d recorder links on sys_enter, want %d and %d", what, d, r, dispatchers, recorders)
}

// TestDispatcherInProcess: two recordings of one process share one
// attached program, each counting exactly its own cgroup's calls; a
// recording asked to be exclusive attaches its own; when all are done,
// nothing is attached.
func TestDispatcherInProcess(t *testing.T) {
	waitSysEnterLinks(t, "before", 0, 0)
	ws := []*waitingCgroup{newWaitingCgroup(t, "", 300), newWaitingCgroup(t, "", 500), newWaitingCgroup(t, "", 700)}
	var es []*EBPF
	var as []*Attached
	for i, w := range ws {
		e := newTestEBPF(t, EBPFOptions{Exclusive: i == 2, Share: i < 2})
		a, err := Attach(AttachOptions{Cgroup: w.cg.Path, Backend: e, Tool: "test"})
		if err != nil {
			t.Fatal(err)
		}
		es, as = append(es, e), append(as, a)
	}
	if es[0].slot == nil || es[1].slot == nil {
		t.Fatalf("not shared: %v, %v", es[0].shareErr, es[1].shareErr)
	}
	if es[0].slot.LinkID() != es[1].slot.LinkID() || es[0].slot.Index() == es[1].slot.Index() {
		t.Errorf("slots %+v and %+v: want two slots of one dispatcher", es[0].slot, es[1].slot)
	}
	if es[2].slot != nil {
		t.Error("an exclusive recording took a slot")
	}
	waitSysEnterLinks(t, "three recordings, one exclusive", 1, 1)
	for i, w := range ws {
		w.run(t)
		rec, _, err := as[i].Finish(false)
		if err != nil {
			t.Fatal(err)
		}
		w.check(t, fmt.Sprintf("recording %d", i), rec)
	}
	waitSysEnterLinks(t, "after", 0, 0)
}

// routesOf reads the dispatcher's routes.
func routesOf(t *testing.T, e *EBPF) dispatch.Routes {
	t.Helper()
	r, err := e.slot.Routes()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestDispatcherMixedLevels: slots at one level are compared with the
// task's ancestor at that level once (routes.level); a slot at another
// level turns that off while it is routed, and both recordings count
// exactly, as does one made after it left.
func TestDispatcherMixedLevels(t *testing.T) {
	a := newWaitingCgroup(t, "", 300)
	parent, err := cgroup.New() // not recorded: b is a level below a's, beside it
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { parent.Close() })
	b := newWaitingCgroup(t, parent.Path, 500)
	c := newWaitingCgroup(t, "", 700)
	attach := func(w *waitingCgroup) (*EBPF, *Attached) {
		e := newTestEBPF(t, EBPFOptions{Share: true})
		at, err := Attach(AttachOptions{Cgroup: w.cg.Path, Backend: e, Tool: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if e.slot == nil {
			t.Fatalf("%s is not shared: %v", w.cg.Path, e.shareErr)
		}
		return e, at
	}
	ea, aa := attach(a)
	level := ea.level
	if r := routesOf(t, ea); r.Level != level {
		t.Fatalf("one slot at level %d: routes level %d", level, r.Level)
	}
	eb, ab := attach(b)
	if eb.level != level+1 {
		t.Fatalf("b's level %d, a's %d", eb.level, level)
	}
	if r := routesOf(t, ea); r.Level != 0 {
		t.Fatalf("slots at levels %d and %d: routes level %d, want 0", level, level+1, r.Level)
	}
	b.run(t)
	a.run(t)
	rec, _, err := ab.Finish(false)
	if err != nil {
		t.Fatal(err)
	}
	b.check(t, "b, a level below", rec)
	if r := routesOf(t, ea); r.Level != level {
		t.Fatalf("b gone: routes level %d, want %d", r.Level, level)
	}
	ec, ac := attach(c)
	if r := routesOf(t, ec); r.Level != level || ec.slot.LinkID() != ea.slot.LinkID() {
		t.Fatalf("c at a's level: routes level %d, want %d, one dispatcher", r.Level, level)
	}
	c.run(t)
	for name, at := range map[string]struct {
		w *waitingCgroup
		a *Attached
	}{"a": {a, aa}, "c, after b left": {c, ac}} {
		rec, _, err := at.a.Finish(false)
		if err != nil {
			t.Fatal(err)
		}
		at.w.check(t, name, rec)
	}
}

// TestDispatcherOverlap: a recording of a cgroup below another shared
// recording's attaches a program of its own (the dispatcher calls one
// slot per task), and both count the calls of the inner cgroup.
func TestDispatcherOverlap(t *testing.T) {
	outer := newWaitingCgroup(t, "", 100)
	inner := newWaitingCgroup(t, outer.cg.Path, 400)
	var as []*Attached
	var es []*EBPF
	for _, w := range []*waitingCgroup{outer, inner} {
		e := newTestEBPF(t, EBPFOptions{Share: true})
		a, err := Attach(AttachOptions{Cgroup: w.cg.Path, Backend: e, Tool: "test"})
		if err != nil {
			t.Fatal(err)
		}
		es, as = append(es, e), append(as, a)
	}
	if es[0].slot == nil {
		t.Fatalf("the outer recording is not shared: %v", es[0].shareErr)
	}
	if es[1].slot != nil || !errors.Is(es[1].shareErr, dispatch.ErrOverlap) {
		t.Fatalf("inner recording: slot %v, reason %v; want a program of its own for the overlap", es[1].slot, es[1].shareErr)
	}
	inner.run(t)
	outer.run(t)
	recOuter, _, err := as[0].Finish(false)
	if err != nil {
		t.Fatal(err)
	}
	recInner, _, err := as[1].Finish(false)
	if err != nil {
		t.Fatal(err)
	}
	inner.check(t, "inner", recInner)
	if s := recOuter.Lookup("getppid"); s == nil || s.Count != 500 {
		t.Errorf("outer: getppid %+v, want both cgroups' 100+400", s)
	}
}

// TestDispatcherUnlistedSlot: when the registry no longer lists a slot the
// dispatcher has in use (the file lost or garbled), the dispatcher is not
// shared further, since the unlisted slot might overlap: the next
// recording attaches its own program, and both count exactly.
func TestDispatcherUnlistedSlot(t *testing.T) {
	wa, wb := newWaitingCgroup(t, "", 300), newWaitingCgroup(t, "", 500)
	ea := newTestEBPF(t, EBPFOptions{Share: true})
	aa, err := Attach(AttachOptions{Cgroup: wa.cg.Path, Backend: ea, Tool: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if ea.slot == nil {
		t.Fatalf("not shared: %v", ea.shareErr)
	}
	if err := os.WriteFile(dispatch.RegistryPath, []byte("{garbled"), 0o600); err != nil {
		t.Fatal(err)
	}
	eb := newTestEBPF(t, EBPFOptions{Share: true})
	ab, err := Attach(AttachOptions{Cgroup: wb.cg.Path, Backend: eb, Tool: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if eb.slot != nil || !errors.Is(eb.shareErr, dispatch.ErrUnlisted) {
		t.Errorf("slot %v, reason %v; want a program of its own for the unlisted slot", eb.slot, eb.shareErr)
	}
	waitSysEnterLinks(t, "a shared, b its own", 1, 1)
	for _, c := range []struct {
		w *waitingCgroup
		a *Attached
	}{{wa, aa}, {wb, ab}} {
		c.w.run(t)
		rec, _, err := c.a.Finish(false)
		if err != nil {
			t.Fatal(err)
		}
		c.w.check(t, c.w.cg.Path, rec)
	}
	waitSysEnterLinks(t, "after", 0, 0)
}

// TestDispatcherAcrossProcesses: recorders in separate processes share one
// attached program. The one that attached it is SIGKILLed: the others go
// on recording exactly, a newcomer empties the dead one's slot and takes
// it, and once the last recorder is done nothing is attached and the
// registry lists no process.
func TestDispatcherAcrossProcesses(t *testing.T) {
	waitSysEnterLinks(t, "before", 0, 0)
	dir := t.TempDir()
	start := func(name string, w *waitingCgroup) *exec.Cmd { return startAttachHelper(t, dir, name, w, "shared") }
	finish := func(name string, h *exec.Cmd, w *waitingCgroup) { finishAttachHelper(t, dir, name, h, w) }

	wa, wb, wc := newWaitingCgroup(t, "", 300), newWaitingCgroup(t, "", 500), newWaitingCgroup(t, "", 700)
	ha := start("a", wa)
	hb := start("b", wb)
	waitSysEnterLinks(t, "two recorders", 1, 0)
	reg := dispatch.ReadRegistry()
	if len(reg.Procs) != 2 || len(reg.Slots) != 2 {
		t.Fatalf("registry with two recorders: %+v", reg)
	}
	slotA := -1
	for _, s := range reg.Slots {
		if s.Pid == ha.Process.Pid {
			slotA = s.Slot
		}
	}

	// The recorder that attached the dispatcher dies; b holds it.
	ha.Process.Kill()
	ha.Wait()
	waitSysEnterLinks(t, "after a is killed", 1, 0)
	hc := start("c", wc)
	reg = dispatch.ReadRegistry()
	for _, p := range reg.Procs {
		if p.Pid == ha.Process.Pid {
			t.Errorf("the killed recorder is still registered: %+v", reg)
		}
	}
	for _, s := range reg.Slots {
		if s.Pid == hc.Process.Pid && s.Slot != slotA {
			t.Errorf("c took slot %d, want the killed recorder's %d", s.Slot, slotA)
		}
	}
	finish("b", hb, wb)
	finish("c", hc, wc)
	waitSysEnterLinks(t, "after the last recorder", 0, 0)
	if reg := dispatch.ReadRegistry(); len(reg.Procs) != 0 || len(reg.Slots) != 0 {
		t.Errorf("registry after the last recorder: %+v", reg)
	}
}

// startAttachHelper starts the test binary as a recorder of w's cgroup in
// another process (attachHelperEnv; with want "solo", as a recording does
// by default, else sharing the dispatcher even alone), its files in dir
// under name, and waits until it records as want says.
func startAttachHelper(t *testing.T, dir, name string, w *waitingCgroup, want string) *exec.Cmd {
	t.Helper()
	ready, out := filepath.Join(dir, name+".ready"), filepath.Join(dir, name+".json")
	v := w.cg.Path + ":" + ready + ":" + out
	if want == "solo" || want == "auto shared" {
		v += ":auto"
		want = strings.TrimPrefix(want, "auto ")
	}
	h := exec.Command(os.Args[0])
	h.Env = append(os.Environ(), attachHelperEnv+"="+v)
	h.Stderr = os.Stderr
	if err := h.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Process.Kill(); h.Wait() })
	for i := 0; ; i++ {
		data, err := os.ReadFile(ready)
		if err == nil && len(data) > 0 {
			if string(data) != want {
				t.Fatalf("%s: %s, want %s", name, data, want)
			}
			return h
		}
		if i == 1000 {
			t.Fatalf("%s did not start recording in 10 s", name)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// finishAttachHelper runs w, waits for the recorder h and checks its
// recording.
func finishAttachHelper(t *testing.T, dir, name string, h *exec.Cmd, w *waitingCgroup) {
	t.Helper()
	w.run(t)
	if err := h.Wait(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	rec, err := recording.ReadFile(filepath.Join(dir, name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	w.check(t, name, rec)
}

// TestDispatcherSolo: a recording alone on the machine attaches a program
// of its own and lists itself in the registry; the next one, in another
// process, takes a slot in the dispatcher while it runs (two programs on
// sys_enter, not one per recording), and a third in this process shares
// it too; both count exactly; once all are done nothing is attached and
// the registry lists nothing, and a recording alone again runs its own
// program.
func TestDispatcherSolo(t *testing.T) {
	waitSysEnterLinks(t, "before", 0, 0)
	dir := t.TempDir()
	attach := func(w *waitingCgroup) (*EBPF, *Attached) {
		t.Helper()
		e := newTestEBPF(t, EBPFOptions{})
		a, err := Attach(AttachOptions{Cgroup: w.cg.Path, Backend: e, Tool: "test"})
		if err != nil {
			t.Fatal(err)
		}
		return e, a
	}
	finish := func(what string, a *Attached, w *waitingCgroup) {
		t.Helper()
		w.run(t)
		rec, _, err := a.Finish(false)
		if err != nil {
			t.Fatal(err)
		}
		w.check(t, what, rec)
	}
	wa, wb, wc := newWaitingCgroup(t, "", 300), newWaitingCgroup(t, "", 500), newWaitingCgroup(t, "", 700)
	ea, aa := attach(wa)
	if ea.solo == nil || ea.slot != nil || ea.shareErr != nil {
		t.Fatalf("a recording alone: solo %v, slot %v, reason %v; want a program of its own, listed", ea.solo, ea.slot, ea.shareErr)
	}
	waitSysEnterLinks(t, "one recording alone", 0, 1)
	if reg := dispatch.ReadRegistry(); len(reg.Solos) != 1 || reg.Solos[0].Pid != os.Getpid() || len(reg.Slots) != 0 {
		t.Fatalf("registry with a recording alone: %+v", reg)
	}
	hb := startAttachHelper(t, dir, "b", wb, "auto shared")
	ec, ac := attach(wc)
	if ec.slot == nil || ec.solo != nil {
		t.Fatalf("a third recording: slot %v, solo %v, reason %v; want a slot", ec.slot, ec.solo, ec.shareErr)
	}
	waitSysEnterLinks(t, "one alone, two sharing", 1, 1)
	finish("a (its own program)", aa, wa)
	finishAttachHelper(t, dir, "b", hb, wb)
	finish("c (shared)", ac, wc)
	waitSysEnterLinks(t, "after", 0, 0)
	if reg := dispatch.ReadRegistry(); len(reg.Procs) != 0 || len(reg.Slots) != 0 || len(reg.Solos) != 0 {
		t.Errorf("registry after the last recorder: %+v", reg)
	}
	wd := newWaitingCgroup(t, "", 200)
	ed, ad := attach(wd)
	if ed.solo == nil || ed.slot != nil {
		t.Errorf("a recording alone again: solo %v, slot %v, reason %v", ed.solo, ed.slot, ed.shareErr)
	}
	finish("d (alone again)", ad, wd)
}
