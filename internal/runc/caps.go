package runc

import (
	"fmt"
	"slices"
	"strings"

	"github.com/moby/sys/capability"
)

// DefaultCapabilities is Docker's default capability set, the one `docker
// run` gives a container without --cap-add or --cap-drop: the list of
// moby's daemon/pkg/oci/caps/defaults.go (DefaultCapabilities), which
// containerd's and runc's `runc spec` defaults are a subset of. Docker
// puts it in the bounding, effective and permitted sets and, since
// 20.10.14 (CVE-2022-24769), not in the inheritable set; so does the
// bundle.
var DefaultCapabilities = capNames(
	capability.CAP_CHOWN,
	capability.CAP_DAC_OVERRIDE,
	capability.CAP_FSETID,
	capability.CAP_FOWNER,
	capability.CAP_MKNOD,
	capability.CAP_NET_RAW,
	capability.CAP_SETGID,
	capability.CAP_SETUID,
	capability.CAP_SETFCAP,
	capability.CAP_SETPCAP,
	capability.CAP_NET_BIND_SERVICE,
	capability.CAP_SYS_CHROOT,
	capability.CAP_KILL,
	capability.CAP_AUDIT_WRITE,
)

// capName is the OCI name of c ("CAP_CHOWN").
func capName(c capability.Cap) string { return "CAP_" + strings.ToUpper(c.String()) }

func capNames(caps ...capability.Cap) []string {
	out := make([]string, len(caps))
	for i, c := range caps {
		out[i] = capName(c)
	}
	return out
}

// NormalizeCap returns the OCI name of a capability given as `docker run
// --cap-add` takes it: any case, with or without the CAP_ prefix ("ALL"
// stays "ALL"). A name the capability library does not know is an error
// naming it.
func NormalizeCap(name string) (string, error) {
	n := strings.ToUpper(strings.TrimSpace(name))
	if n == "ALL" {
		return n, nil
	}
	if !strings.HasPrefix(n, "CAP_") {
		n = "CAP_" + n
	}
	for _, c := range capability.ListKnown() {
		if capName(c) == n {
			return n, nil
		}
	}
	return "", fmt.Errorf("unknown capability %q (want a name such as NET_ADMIN or CAP_NET_ADMIN, or ALL)", name)
}

// Capabilities returns the capability set of a container given Docker's
// --cap-add and --cap-drop (names as NormalizeCap takes them), computed as
// Docker does (moby's TweakCapabilities): ALL in add is every capability
// but those dropped; else ALL in drop is add alone; else the default set
// less drop, plus add. "Every capability" is every one the kernel has
// that profgen's own bounding set still holds: runc cannot grant the
// container more than its caller has.
func Capabilities(add, drop []string) ([]string, error) {
	norm := func(names []string, flag string) ([]string, error) {
		var out []string
		for _, n := range names {
			c, err := NormalizeCap(n)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", flag, err)
			}
			out = append(out, c)
		}
		return out, nil
	}
	add, err := norm(add, "--cap-add")
	if err != nil {
		return nil, err
	}
	drop, err = norm(drop, "--cap-drop")
	if err != nil {
		return nil, err
	}
	var caps []string
	switch {
	case slices.Contains(add, "ALL"):
		all, err := heldCapabilities()
		if err != nil {
			return nil, err
		}
		for _, c := range all {
			if !slices.Contains(drop, c) {
				caps = append(caps, c)
			}
		}
	case slices.Contains(drop, "ALL"):
		caps = slices.Clone(add)
	default:
		for _, c := range DefaultCapabilities {
			if !slices.Contains(drop, c) {
				caps = append(caps, c)
			}
		}
		caps = append(caps, add...)
	}
	slices.Sort(caps)
	return slices.Compact(caps), nil
}

// heldCapabilities lists the capabilities of the running kernel that the
// calling process's bounding set holds.
func heldCapabilities() ([]string, error) {
	supported, err := capability.ListSupported()
	if err != nil {
		return nil, fmt.Errorf("capabilities of this kernel: %w", err)
	}
	self, err := capability.NewPid2(0)
	if err == nil {
		err = self.Load()
	}
	if err != nil {
		return nil, fmt.Errorf("profgen's own capabilities: %w", err)
	}
	var out []string
	for _, c := range supported {
		if self.Get(capability.BOUNDING, c) {
			out = append(out, capName(c))
		}
	}
	return out, nil
}
