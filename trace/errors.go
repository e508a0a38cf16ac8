package trace

import "errors"

// ErrNotSupported is returned (wrapped) when a kernel feature a backend
// needs is missing or not permitted. The wrapping message names the feature
// and the fix.
var ErrNotSupported = errors.New("not supported")
