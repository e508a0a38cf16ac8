package recording

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func withEngine(r *Recording, e *EngineProfile) *Recording {
	r.EngineProfile = e
	return r
}

// TestEngineProfileRoundTrip: the engine profile evidence is written and
// read back; a recording without one has no engineProfile field (so that
// older readers still read it).
func TestEngineProfileRoundTrip(t *testing.T) {
	r := withEngine(sample(), &EngineProfile{DefaultAction: "SCMP_ACT_ERRNO", DefaultErrno: 1, Refused: []Refusal{
		{Name: "socket", Action: "SCMP_ACT_ERRNO", Errno: 97, ErrnoName: "EAFNOSUPPORT", Values: []Hex{40, 1, 0}, Count: 1},
		{Name: "clone3", Action: "SCMP_ACT_ERRNO", Errno: 38, ErrnoName: "ENOSYS", Count: 4},
	}})
	data := encode(t, r)
	back, err := Parse(data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	e := back.EngineProfile
	if e == nil || len(e.Refused) != 2 || e.Refused[0].Name != "clone3" || e.Refused[0].ErrnoName != "ENOSYS" || e.Refused[1].Values[0] != 40 {
		t.Errorf("read back %+v", e)
	}
	if s := string(encode(t, sample())); strings.Contains(s, "engineProfile") {
		t.Errorf("a recording without an engine profile names one:\n%s", s)
	}
}

// TestEngineProfileValidate: bad evidence is refused, naming where.
func TestEngineProfileValidate(t *testing.T) {
	for _, tc := range []struct {
		e    *EngineProfile
		want string
	}{
		{&EngineProfile{}, "engineProfile: no defaultAction"},
		{&EngineProfile{DefaultAction: "SCMP_ACT_ERRNO", Refused: []Refusal{{Name: "nosuchcall", Action: "SCMP_ACT_ERRNO", Count: 1}}}, "engineProfile.refused[0] (nosuchcall)"},
		{&EngineProfile{DefaultAction: "SCMP_ACT_ERRNO", Refused: []Refusal{{Name: "read", Count: 1}}}, "refused[0] (read): no action"},
		{&EngineProfile{DefaultAction: "SCMP_ACT_ERRNO", Refused: []Refusal{{Name: "read", Action: "SCMP_ACT_ERRNO"}}}, "count 0"},
		{&EngineProfile{DefaultAction: "SCMP_ACT_ERRNO", Refused: []Refusal{{Name: "read", Action: "SCMP_ACT_ERRNO", Count: 1}, {Name: "read", Action: "SCMP_ACT_ERRNO", Count: 2}}}, "refused[1] (read): refusals not sorted or repeated"},
	} {
		err := withEngine(sample(), tc.e).Validate()
		if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an ErrFormat naming %q", tc.e, err, tc.want)
		}
	}
}

// TestMergeEngineProfile: merging unites the refusals (counts added), keeps
// the default action when all agree and says mixed otherwise, whatever the
// order of the inputs; an input without an engine profile adds none.
func TestMergeEngineProfile(t *testing.T) {
	clone3 := Refusal{Name: "clone3", Action: "SCMP_ACT_ERRNO", Errno: 38, ErrnoName: "ENOSYS", Count: 2}
	sock := Refusal{Name: "socket", Action: "SCMP_ACT_ERRNO", Errno: 1, ErrnoName: "EPERM", Values: []Hex{40, 1, 0}, Count: 1}
	a := withEngine(sample(), &EngineProfile{DefaultAction: "SCMP_ACT_ERRNO", DefaultErrno: 1, Refused: []Refusal{clone3}})
	b := withEngine(sample(), &EngineProfile{DefaultAction: "SCMP_ACT_ERRNO", DefaultErrno: 1, Refused: []Refusal{clone3, sock}})
	c := withEngine(sample(), &EngineProfile{DefaultAction: "SCMP_ACT_ERRNO", DefaultErrno: 38, Enforced: true})
	plain := sample()

	m, err := Merge(a, plain, b)
	if err != nil {
		t.Fatal(err)
	}
	e := m.EngineProfile
	if e == nil || e.DefaultAction != "SCMP_ACT_ERRNO" || e.DefaultErrno != 1 || e.Enforced {
		t.Fatalf("merged engine profile %+v", e)
	}
	if got, want := fmt.Sprint(e.Refused), fmt.Sprint([]Refusal{{Name: "clone3", Action: "SCMP_ACT_ERRNO", Errno: 38, ErrnoName: "ENOSYS", Count: 4}, sock}); got != want {
		t.Errorf("refused %s, want %s", got, want)
	}
	if len(a.EngineProfile.Refused) != 1 || a.EngineProfile.Refused[0].Count != 2 {
		t.Errorf("merge modified its input: %+v", a.EngineProfile)
	}
	m2, err := Merge(c, b, plain, a)
	if err != nil {
		t.Fatal(err)
	}
	if e := m2.EngineProfile; e.DefaultAction != Mixed || e.DefaultErrno != 0 || !e.Enforced || len(e.Refused) != 2 {
		t.Errorf("merge of different profiles: %+v", e)
	}
	m3, err := Merge(a, plain, b, c)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(m2.EngineProfile) != fmt.Sprint(m3.EngineProfile) {
		t.Errorf("merge depends on the order of its inputs: %+v and %+v", m2.EngineProfile, m3.EngineProfile)
	}
	if m, err := Merge(plain, sample()); err != nil || m.EngineProfile != nil {
		t.Errorf("merge of recordings without an engine profile: %+v, %v", m.EngineProfile, err)
	}
}
