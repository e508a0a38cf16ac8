package learn_test

import (
	"testing"

	"github.com/profgen/profgen/learn"
)

func TestZeroActionIsUnset(t *testing.T) {
	var a learn.Action
	if a.IsSet() || a == learn.Allow || a.String() != "unset" {
		t.Errorf("zero Action: set=%v, %s", a.IsSet(), a)
	}
	for _, a := range []learn.Action{learn.Allow, learn.Log, learn.ErrnoEPERM, learn.KillProcess} {
		if !a.IsSet() {
			t.Errorf("%s is not set", a)
		}
	}
}
