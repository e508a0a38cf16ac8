package recording

import (
	"encoding/json"
	"io"
)

// jsonNoNormalize encodes a recording as it is, without the sorting Encode
// does, to build malformed input.
type jsonNoNormalize struct{ r *Recording }

func (j *jsonNoNormalize) encode(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(j.r)
}
