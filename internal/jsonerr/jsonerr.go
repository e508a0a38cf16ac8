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
	if off < 0 {
		return err.Error()
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
	return fmt.Sprintf("line %d column %d: %v", line, col, err)
}
