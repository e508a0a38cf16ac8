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

// TestDescribeNoContent: an error about a document that is not JSON does
// not quote the document's bytes (the first byte of /etc/shadow, say).
func TestDescribeNoContent(t *testing.T) {
	for _, doc := range []string{"root:x:0", "'secret", "\\secret", "\x00secret", "\"a\" Zecret", "{\"a\": s}"} {
		var v any
		err := json.Unmarshal([]byte(doc), &v)
		if err == nil {
			t.Fatalf("%q parsed", doc)
		}
		got := Describe([]byte(doc), err)
		first := string(doc[0])
		if doc[0] == '"' {
			first = "Z"
		}
		if doc[0] == '{' {
			first = "s"
		}
		if strings.Contains(got, "'"+first) || strings.Contains(got, `\x00`) || !strings.Contains(got, "invalid character") {
			t.Errorf("%q: %q quotes the content or lost the cause", doc, got)
		}
	}
}
