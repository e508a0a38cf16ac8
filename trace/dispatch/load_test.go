package dispatch

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/errs"
)

func TestLoadErrorPermission(t *testing.T) {
	err := LoadError(fmt.Errorf("map create: %w", unix.EPERM))
	if !errors.Is(err, errs.ErrNotSupported) || !strings.Contains(err.Error(), "CAP_BPF") ||
		!strings.Contains(err.Error(), "CAP_PERFMON") || strings.Contains(err.Error(), "\n") {
		t.Errorf("EPERM: %v", err)
	}
	if err := LoadError(errors.New("other")); errors.Is(err, errs.ErrNotSupported) {
		t.Errorf("a plain failure is reported as not supported: %v", err)
	}
}
