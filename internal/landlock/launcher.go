package landlock

import (
	"debug/elf"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
)

// The static launcher that applies a ruleset inside a container
// (cmd/profgen-landlock): profgen-runc, for the annotation
// io.profgen.landlock, and live replay in a container (runc, podman,
// docker) bind-mount it and the ruleset read-only at ContainerDir and put
// LauncherArgs in front of the container's command.
const (
	// LauncherName is the launcher's file name, beside the executable
	// of the tool that uses it (FindLauncher).
	LauncherName = "profgen-landlock"
	// ContainerDir is where the launcher and the ruleset are mounted in
	// the container; ContainerLauncher and ContainerRuleset their paths.
	ContainerDir      = "/.profgen"
	ContainerLauncher = ContainerDir + "/" + LauncherName
	ContainerRuleset  = ContainerDir + "/landlock.json"
	// ContainerSeccomp is where the container's seccomp filter, compiled
	// on the host (raw struct sock_filter, native byte order), is mounted
	// when the launcher loads it after the ruleset (LauncherArgsFilter).
	ContainerSeccomp = ContainerDir + "/seccomp.bpf"
)

// FindLauncher returns the launcher beside the executable self, checked
// to be static (an executable without a program interpreter, which any
// image can run); the error says how to build it there.
func FindLauncher(self string) (string, error) {
	path := filepath.Join(filepath.Dir(self), LauncherName)
	if err := checkStatic(path); err != nil {
		return "", fmt.Errorf("the launcher: %w (build it beside %s: CGO_ENABLED=0 go build -o %s ./cmd/profgen-landlock)", err, filepath.Base(self), path)
	}
	return path, nil
}

// checkStatic checks that path is an ELF executable without a program
// interpreter.
func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is not static (it has a program interpreter)", path)
		}
	}
	return nil
}

// LauncherArgs returns args (the container's command) behind the launcher
// and its ruleset, as they are mounted in the container.
func LauncherArgs(args []string) []string {
	return append([]string{ContainerLauncher, ContainerRuleset, "--"}, slices.Clone(args)...)
}

// LauncherArgsFilter is LauncherArgs for a launcher that also loads the
// seccomp filter mounted at ContainerSeccomp, with the seccomp(2) flags
// flags, after the ruleset and right before it execs args: the
// container's runtime then loads no filter, and the launcher's own calls
// are not the workload's profile's to allow.
func LauncherArgsFilter(args []string, flags uint) []string {
	return append([]string{ContainerLauncher, "-seccomp", ContainerSeccomp, "-seccomp-flags", strconv.FormatUint(uint64(flags), 10), ContainerRuleset, "--"}, slices.Clone(args)...)
}
