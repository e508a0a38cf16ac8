package filter

import (
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/recording"
)

// learnFixture learns a profile from learn's testdata/shapes.json.
func learnFixture(t testing.TB, opts learn.Options) (*learn.Profile, *recording.Recording) {
	t.Helper()
	var p *learn.Profile
	rec, err := recording.ReadFile(filepath.Join("..", "learn", "testdata", "shapes.json"))
	if err == nil {
		p, err = learn.FromRecording(rec, opts)
	}
	if err != nil {
		t.Fatal(err)
	}
	return p, rec
}

// recordedCounts returns the calls per syscall name of rec.
func recordedCounts(rec *recording.Recording) map[string]uint64 {
	counts := map[string]uint64{}
	for _, s := range rec.Syscalls {
		counts[s.Name] += s.Count
	}
	return counts
}

// TestCompileHot: the hot-first filter gives the plain filter's verdict for
// every recorded event, runs fewer instructions per recorded call where the
// kernel runs the filter at all (the argument-checked syscalls), and puts
// the hottest argument-checked syscall's dispatch before every other
// syscall's.
func TestCompileHot(t *testing.T) {
	p, rec := learnFixture(t, learn.Options{})
	counts := recordedCounts(rec)
	plain, err := Compile(p, CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	hot, err := CompileHot(p, counts, CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pv, err := NewVM(plain)
	if err != nil {
		t.Fatal(err)
	}
	hv, err := NewVM(hot)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range rec.Syscalls {
		// Every recorded event, and the call with no argument set.
		var datas []SeccompData
		for _, ev := range append(s.Events(), recording.Event{}) {
			datas = append(datas, SeccompData{Nr: int32(s.Number), Arch: unix.AUDIT_ARCH_X86_64, Args: ev.Args})
		}
		for _, e := range datas {
			a, errA := pv.Run(e)
			b, errB := hv.Run(e)
			if errA != nil || errB != nil || a != b {
				t.Errorf("%s %v: plain %#x (%v), hot %#x (%v)", s.Name, e.Args, a, errA, b, errB)
			}
		}
	}
	pc, err := Cost(plain, unix.AUDIT_ARCH_X86_64, rec)
	if err != nil {
		t.Fatal(err)
	}
	hc, err := Cost(hot, unix.AUDIT_ARCH_X86_64, rec)
	if err != nil {
		t.Fatal(err)
	}
	if hc.Uncached >= pc.Uncached || hc.Cached != pc.Cached {
		t.Errorf("hot filter: %+v; plain: %+v; want fewer instructions per uncached call, the same cached share", hc, pc)
	}
	t.Logf("instructions per recorded call, cache-allowed calls counted as 0: plain (libseccomp's default) %.2f, hot-first %.2f (%.0f%% of calls cache-allowed in both)",
		pc.Uncached, hc.Uncached, 100*pc.Cached)

	// futex is the fixture's hottest argument-checked syscall: under the
	// hot filter it is dispatched in fewer steps than any other syscall.
	if counts["futex"] == 0 || len(p.Lookup("futex").Rules) == 0 {
		t.Fatal("the fixture no longer has a hot argument-checked futex")
	}
	futex := SeccompData{Nr: unix.SYS_FUTEX, Arch: unix.AUDIT_ARCH_X86_64, Args: [6]uint64{0, 0x81}}
	nf, _, err := Steps(hot, futex)
	if err != nil {
		t.Fatal(err)
	}
	np, _, err := Steps(plain, futex)
	if err != nil {
		t.Fatal(err)
	}
	if nf >= np {
		t.Errorf("futex: %d instructions under the hot filter, %d under the plain one", nf, np)
	}
}

// FuzzHotMatchesPlain compares the verdicts of the hot-first filter and the
// plain one in the VM for fuzzed seccomp_data: any architecture, any
// number (x32's, -1, beyond the table), any arguments.
func FuzzHotMatchesPlain(f *testing.F) {
	p, rec := learnFixture(f, learn.Options{})
	plain, err := Compile(p, CompileOptions{})
	if err != nil {
		f.Fatal(err)
	}
	hot, err := CompileHot(p, recordedCounts(rec), CompileOptions{})
	if err != nil {
		f.Fatal(err)
	}
	pv, err := NewVM(plain)
	if err != nil {
		f.Fatal(err)
	}
	hv, err := NewVM(hot)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range rec.Syscalls {
		for _, ev := range append(s.Events(), recording.Event{}) {
			a := ev.Args
			f.Add(int32(s.Number), uint32(unix.AUDIT_ARCH_X86_64), a[0], a[1], a[2], a[3], a[4], a[5])
		}
	}
	f.Fuzz(func(t *testing.T, nr int32, arch uint32, a0, a1, a2, a3, a4, a5 uint64) {
		d := SeccompData{Nr: nr, Arch: arch, Args: [6]uint64{a0, a1, a2, a3, a4, a5}}
		a, errA := pv.Run(d)
		b, errB := hv.Run(d)
		if errA != nil || errB != nil || a != b {
			t.Fatalf("%+v: plain %#x (%v), hot %#x (%v)", d, a, errA, b, errB)
		}
	})
}
