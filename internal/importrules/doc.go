// Package importrules states profgen's import rules and checks an import
// graph against them. TestImportRules applies them to the real imports of
// the module, as `go list -json ./...` reports them; a broken rule is
// reported naming the edge (or the chain of edges) that breaks it.
//
// The rules, over the non-test imports of the module's packages:
//
//   - nothing imports cmd/...;
//   - no internal/... package imports a project package outside internal/;
//   - internal/engine (the table of container engines) imports no project
//     package, so that every package may import it;
//   - learn and emit import (directly or not) neither trace nor replay;
//   - trace imports (directly or not) none of learn, emit, replay, landlock;
//   - landlock imports (directly or not) none of trace, replay, learn, emit;
//   - argspec (the argument table trace, learn and their tests read)
//     imports none of trace, learn, emit, replay;
//   - github.com/seccomp/libseccomp-golang is imported by internal/abi
//     (syscall names) and filter (the one filter compiler) only.
//
// Test files are not held to them: end-to-end tests of emit record with
// trace, and tests may build filters with libseccomp directly.
package importrules
