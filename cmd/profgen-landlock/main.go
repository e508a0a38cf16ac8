// Command profgen-landlock is the small launcher profgen-runc puts in front
// of a container's process for the annotation io.profgen.landlock: it
// reads a Landlock ruleset (internal/landlock.Ruleset as JSON, as
// profgen-runc converts it from Landlock's configuration format), applies
// it to itself and execs the container's command, which inherits it.
//
//	profgen-landlock RULESET.json -- COMMAND [ARG...]
//
// It imports no cgo package, so that it builds static (CGO_ENABLED=0) and
// runs in any container image: profgen-runc bind-mounts it into the
// container read-only. Exit status 125 when the ruleset cannot be read or
// applied, 127 when COMMAND cannot be executed.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"

	"github.com/profgen/profgen/internal/landlock"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) < 3 || args[1] != "--" {
		fmt.Fprintln(os.Stderr, "profgen-landlock: usage: profgen-landlock RULESET.json -- COMMAND [ARG...]")
		return 125
	}
	data, err := os.ReadFile(args[0])
	if err != nil {
		fmt.Fprintf(os.Stderr, "profgen-landlock: %v\n", err)
		return 125
	}
	var r landlock.Ruleset
	if err := json.Unmarshal(data, &r); err != nil {
		fmt.Fprintf(os.Stderr, "profgen-landlock: %s: %v\n", args[0], err)
		return 125
	}
	cmd := args[2:]
	path, err := exec.LookPath(cmd[0])
	if err != nil {
		fmt.Fprintf(os.Stderr, "profgen-landlock: %v\n", err)
		return 127
	}
	r.Warn = func(s string) { fmt.Fprintf(os.Stderr, "profgen-landlock: warning: %s\n", s) }
	// Landlock restricts the calling thread, which execs.
	runtime.LockOSThread()
	if err := r.Apply(); err != nil {
		fmt.Fprintf(os.Stderr, "profgen-landlock: landlock: %v\n", err)
		return 125
	}
	err = syscall.Exec(path, cmd, os.Environ())
	fmt.Fprintf(os.Stderr, "profgen-landlock: exec %s: %v\n", path, err)
	return 127
}
