package jsonerr

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestDescribe(t *testing.T) {
	for _, c := range []struct {
		doc  string
		want string
	}{
		{"{\n  \"a\": 1,\n  \"b\": x\n}", "line 3 column 8"},
		{"{\"a\": \"str\"}", "line 1 column 12"},
		{"{\"a\": 1", "line 1 column 8"},
	} {
		var v struct{ A int }
		err := json.Unmarshal([]byte(c.doc), &v)
		if err == nil {
			t.Fatalf("%q parsed", c.doc)
		}
		if got := Describe([]byte(c.doc), err); !strings.HasPrefix(got, c.want) {
			t.Errorf("%q: %q, want prefix %q", c.doc, got, c.want)
		}
	}
	if got := Describe(nil, errors.New("plain")); got != "plain" {
		t.Errorf("plain error: %q", got)
	}
}
