package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// engineCLIs are container engine command lines whose containers are not
// the command's process tree: recording the CLI would record the engine
// (podman, conmon, runc; dockerd is not even a descendant) instead of the
// container.
var engineCLIs = []string{"podman", "docker", "nerdctl", "ctr", "crictl", "kubectl"}

// engineSubcommands start or run a container.
var engineSubcommands = []string{"run", "start", "create", "exec", "compose", "container"}

// checkEngineCommand refuses `profgen record -- podman run ...` and the
// like, with the command that records the container instead.
func checkEngineCommand(command []string) error {
	if len(command) == 0 {
		return nil
	}
	engine := filepath.Base(command[0])
	if !slices.Contains(engineCLIs, engine) {
		return nil
	}
	// Global flags may take values (podman --root DIR run): the first
	// word that names a subcommand which runs a container is taken as it.
	sub := ""
	for _, a := range command[1:] {
		if slices.Contains(engineSubcommands, a) {
			sub = a
			break
		}
	}
	if sub == "" {
		return nil
	}
	wrapper := "/path/to/profgen-runc"
	if exe, err := os.Executable(); err == nil {
		if w := filepath.Join(filepath.Dir(exe), "profgen-runc"); fileExists(w) {
			wrapper = w
		}
	}
	switch engine {
	case "podman":
		rest := strings.Join(command[1:], " ")
		if i := slices.Index(command, sub); i > 0 {
			rest = strings.Join(command[i+1:], " ")
		}
		return fmt.Errorf("%s %s would record podman, conmon and runc, not the container: record it through the runtime wrapper: "+
			"podman --runtime %s %s --annotation io.profgen.record=/abs/out.json %s (see docs/containers.md)", engine, sub, wrapper, sub, rest)
	case "docker":
		return fmt.Errorf("docker %s would record the docker CLI, not the container (it is dockerd's): register the runtime wrapper with "+
			"dockerd --add-runtime profgen=%s and run docker run --runtime profgen ... (see docs/containers.md)", sub, wrapper)
	}
	return fmt.Errorf("%s %s would record the engine's client, not the container: use the runtime wrapper profgen-runc as the engine's OCI runtime (see docs/containers.md)", engine, sub)
}

func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir()
}
