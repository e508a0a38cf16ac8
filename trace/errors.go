package trace

import "github.com/profgen/profgen/internal/errs"

// ErrNotSupported is matched (errors.Is) by every error that means a
// kernel feature or permission a backend needs is missing. Such an error is
// an *Unsupported naming the feature and the fix.
var ErrNotSupported = errs.ErrNotSupported

// Unsupported is the error of a missing feature: Op, Feature, Fix and the
// underlying Err. It matches ErrNotSupported.
type Unsupported = errs.Unsupported
