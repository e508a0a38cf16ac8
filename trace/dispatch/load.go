package dispatch

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/errs"
)

// LoadError explains why the recorder (or the dispatcher) could not be
// loaded: a missing permission or kernel feature is an *errs.Unsupported
// naming the fix.
func LoadError(err error) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return &errs.Unsupported{Op: "load eBPF recorder", Feature: "not permitted to load BPF programs",
			Fix: "run profgen as root or give it CAP_BPF and CAP_PERFMON (setcap cap_bpf,cap_perfmon+ep profgen)"}
	}
	var ve *ebpf.VerifierError
	if errors.As(err, &ve) {
		return fmt.Errorf("load eBPF recorder: the kernel's verifier rejected it: %v", ve)
	}
	if errors.Is(err, ebpf.ErrNotSupported) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) {
		return &errs.Unsupported{Op: "load eBPF recorder",
			Feature: "the kernel lacks a BPF feature the recorder needs (raw tracepoints, BTF at /sys/kernel/btf/vmlinux, mmapable global data)",
			Fix:     "use Linux 5.8 or later built with CONFIG_DEBUG_INFO_BTF", Err: err}
	}
	return fmt.Errorf("load eBPF recorder: %w", err)
}

// AttachError explains why a raw tracepoint could not be attached.
func AttachError(name string, err error) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return &errs.Unsupported{Op: "attach raw tracepoint " + name, Feature: "not permitted",
			Fix: "run profgen as root or give it CAP_BPF and CAP_PERFMON", Err: err}
	}
	if errors.Is(err, unix.ENOENT) {
		return &errs.Unsupported{Op: "attach raw tracepoint " + name, Feature: "the kernel has no such tracepoint",
			Fix: "use a kernel built with CONFIG_FTRACE_SYSCALLS", Err: err}
	}
	return fmt.Errorf("attach raw tracepoint %s: %w", name, err)
}
