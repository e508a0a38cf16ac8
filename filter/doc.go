// Package filter is profgen's one seccomp filter compiler: it turns a
// learn.Profile into a libseccomp filter (NewFilter) and the classic-BPF
// program libseccomp generates for it (Compile, Program), maps filter
// return values to the model's actions and back (ActionFromRet, on
// internal/seccomp.DecodeRet, and RetFromAction), and builds the log
// backend's filter for a base profile (LogBase). CompileOCI compiles an
// OCI linux.seccomp into the program and seccomp(2) flags runc would load
// for it (readers.ParseOCI's reading, every listed architecture, runc's
// ENOSYS stub: ENOSYSStub), for the Landlock launcher that loads a
// container's profile in the runtime's stead. Beside the compiler it runs
// a program: a classic-BPF VM on a seccomp_data (NewVM, SeccompData), and
// an emulation of the kernel's constant-action cache and of the
// instructions a filter runs per call (CacheAllows, Steps, Cost). A profile is compiled for its own architecture, which need not
// be the native one (a profile learn.ForArch wrote for aarch64 compiles
// into the program an aarch64 kernel loads), plus CompileOptions.Arches.
//
// The profile-free part — checking, decoding and installing raw
// struct sock_filter programs — is internal/seccomp, which the recorder
// uses without the profile model. This package and internal/abi are the
// only project packages that import libseccomp-golang.
package filter
