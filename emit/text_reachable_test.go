package emit

import (
	"bytes"
	"regexp"
	"testing"

	"github.com/profgen/profgen/learn"
)

// TestTextReachable: with Options.Reachable the text output has a
// REACHABLE column saying it for each syscall, and reasons stay in the
// last column; without it, no column.
func TestTextReachable(t *testing.T) {
	p := &learn.Profile{Arch: "amd64", DefaultAction: learn.ErrnoEPERM, Inputs: 1}
	for _, s := range []learn.Syscall{
		{Name: "read", Action: learn.Allow, Origin: learn.OriginRecorded, Seen: 1},
		{Name: "restart_syscall", Action: learn.Allow, Origin: learn.OriginBaseline, Reason: "kernel"},
		{Name: "getppid", Action: learn.Allow, Origin: learn.OriginRecorded, Seen: 1},
	} {
		if err := p.Add(s); err != nil {
			t.Fatal(err)
		}
	}
	col := map[string]string{"read": "yes", "restart_syscall": "kernel"}
	var b bytes.Buffer
	if err := writeText(&b, p, Options{Reachable: func(n string) string {
		if c, ok := col[n]; ok {
			return c
		}
		return "no"
	}}); err != nil {
		t.Fatal(err)
	}
	for _, re := range []string{
		`(?m)^# REACHABLE: `,
		`(?m)^SYSCALL +ACTION +SEEN +ORIGIN +REACHABLE +RULES$`,
		`(?m)^read +allow +1/1 +recorded +yes +any$`,
		`(?m)^getppid +allow +1/1 +recorded +no +any$`,
		`(?m)^restart_syscall +allow +- +baseline +kernel +any\n +# kernel$`,
	} {
		if !regexp.MustCompile(re).MatchString(b.String()) {
			t.Errorf("text lacks %s:\n%s", re, b.String())
		}
	}
	b.Reset()
	if err := writeText(&b, p, Options{}); err != nil {
		t.Fatal(err)
	}
	if regexp.MustCompile(`REACHABLE`).MatchString(b.String()) {
		t.Errorf("REACHABLE column without Options.Reachable:\n%s", b.String())
	}
}
