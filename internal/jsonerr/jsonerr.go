// Package jsonerr says where in a JSON document a decoding error is, so
// that a bad recording or profile is reported with its line and column.
package jsonerr

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Describe returns err prefixed with the line and column of data it points
// at, or err's text alone when it carries no position.
func Describe(data []byte, err error) string {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
		if off > 0 && int(off) <= len(data) && !strings.Contains(se.Error(), "unexpected end") {
			off-- // the offending byte, which Offset counts as read
		}
	case errors.As(err, &te):
		off = te.Offset
	}
	msg := withoutContent(err)
	if off < 0 {
		return msg
	}
	line, col := 1, 1
	for _, b := range data[:min(int(off), len(data))] {
		if b == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return fmt.Sprintf("line %d column %d: %s", line, col, msg)
}

// withoutContent returns err's text without the bytes of the document it
// quotes: encoding/json names the offending character ("invalid character
// 'r' looking for beginning of value"), which for a file that is not JSON
// at all (a secret, say) is the file's content.
func withoutContent(err error) string {
	msg := err.Error()
	const p = "invalid character "
	i := strings.Index(msg, p)
	if i < 0 {
		return msg
	}
	rest := msg[i+len(p):]
	// The character is quoted as Go does: 'x', '\'', '\x00', '"'.
	if len(rest) < 3 || rest[0] != '\'' {
		return msg
	}
	from := 2
	if rest[1] == '\\' {
		from = 3
	}
	end := strings.IndexByte(rest[from:], '\'')
	if end < 0 {
		return msg
	}
	return msg[:i] + "invalid character" + rest[from+end+1:]
}
