package runc

import "os/exec"

// StartInNewSession starts cmd in a fresh audit session, calling onSession
// with its id before cmd starts, and returns the id: engines such as podman
// (podman, conmon, runc and the container all descend from the command)
// are replayed this way.
func StartInNewSession(cmd *exec.Cmd, onSession func(uint32)) (uint32, error) {
	return startInNewSession(cmd, onSession)
}
