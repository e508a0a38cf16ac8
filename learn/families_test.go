package learn

import (
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/abi"
)

func ioctlRule(req uint64) Rule {
	var r Rule
	r[ioctlRequestArg] = MaskedEqual{Mask: 0xffffffff, Value: req}
	return r
}

func requests(rules []Rule) []uint64 {
	var out []uint64
	for _, r := range rules {
		out = append(out, r[ioctlRequestArg].(MaskedEqual).Value)
	}
	slices.Sort(out)
	return out
}

// TestWidenFamilies: a request of a family brings in the others, with a
// note; requests outside the families (TIOCSTI, TCSETS) stay as recorded,
// other syscalls and architectures with other ioctl numbers are untouched.
func TestWidenFamilies(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []uint64
		want []uint64
		note string
	}{
		{"isatty", []uint64{unix.TCGETS}, []uint64{unix.TCGETS, unix.TIOCGPGRP, unix.TIOCGWINSZ}, "TIOCGWINSZ, TIOCGPGRP allowed with the recorded TCGETS"},
		{"cloexec", []uint64{fioclex}, []uint64{fionbio, fionclex, fioclex}, "FIONBIO, FIONCLEX allowed with the recorded FIOCLEX"},
		{"both", []uint64{unix.TIOCGWINSZ, fionbio}, []uint64{unix.TCGETS, unix.TIOCGPGRP, unix.TIOCGWINSZ, fionbio, fionclex, fioclex}, "descriptor flags"},
		{"TIOCSTI never", []uint64{unix.TIOCSTI, unix.TCSETS}, []uint64{unix.TCSETS, unix.TIOCSTI}, ""},
		{"complete", []uint64{unix.TCGETS, unix.TIOCGPGRP, unix.TIOCGWINSZ}, []uint64{unix.TCGETS, unix.TIOCGPGRP, unix.TIOCGWINSZ}, ""},
	} {
		var rules []Rule
		for _, v := range tc.in {
			rules = append(rules, ioctlRule(v))
		}
		got, notes := widenFamilies("amd64", "ioctl", rules)
		if !slices.Equal(requests(got), tc.want) {
			t.Errorf("%s: requests %#x, want %#x", tc.name, requests(got), tc.want)
		}
		if joined := strings.Join(notes, "\n"); (tc.note == "") != (joined == "") || !strings.Contains(joined, tc.note) {
			t.Errorf("%s: notes %q, want one containing %q", tc.name, notes, tc.note)
		}
		if slices.Contains(requests(got), unix.TIOCSTI) && !slices.Contains(tc.in, unix.TIOCSTI) {
			t.Errorf("%s: TIOCSTI was added", tc.name)
		}
	}
	// Other conditions of a rule are kept on the added ones.
	r := ioctlRule(unix.TCGETS)
	r[0] = MaskedEqual{Mask: 0xffffffff, Value: 1}
	got, _ := widenFamilies("amd64", "ioctl", []Rule{r})
	for _, g := range got {
		if g[0] != r[0] {
			t.Errorf("added rule %v lost the descriptor condition %v", g, r[0])
		}
	}
	for _, c := range []struct {
		arch abi.Arch
		name string
	}{{"ppc64le", "ioctl"}, {"amd64", "fcntl"}} {
		if got, notes := widenFamilies(c.arch, c.name, []Rule{ioctlRule(unix.TCGETS)}); len(got) != 1 || notes != nil {
			t.Errorf("%s %s widened: %v %q", c.arch, c.name, got, notes)
		}
	}
	if got, _ := widenFamilies("amd64", "ioctl", nil); got != nil {
		t.Errorf("unconditional ioctl got rules %v", got)
	}
}
