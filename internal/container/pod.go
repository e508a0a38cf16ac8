package container

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/profgen/profgen/internal/engine"
	"github.com/profgen/profgen/internal/proc"
)

// ID returns the id of the container the cgroup path p names: the
// component PREFIX-ID.scope (systemd driver) or a 64-character hex
// component (cgroupfs driver); "" when p names none. The innermost
// component that names one wins.
func ID(p string) string {
	parts := strings.Split(p, "/")
	for i := len(parts) - 1; i >= 0; i-- {
		c := strings.TrimSuffix(parts[i], ".scope")
		for _, pre := range prefixes {
			if rest, ok := strings.CutPrefix(c, pre); ok && isID(rest) {
				return rest
			}
		}
		if isID(c) {
			return c
		}
	}
	return ""
}

// isID reports whether s is a 64-character lower-case hex container id.
func isID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, r := range s {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f') {
			return false
		}
	}
	return true
}

// Pod is what a container's CRI annotations say of its pod.
type Pod struct {
	Name, Namespace, Container string
}

// PodOf reads the pod from a's CRI annotations (the engine table's
// PodAnnotations: containerd's io.kubernetes.cri.*, CRI-O's
// io.kubernetes.pod.*); the zero Pod when they name none.
func PodOf(a map[string]string) Pod {
	name, namespace, container := engine.PodOf(a)
	return Pod{name, namespace, container}
}

// maxAncestors bounds the walk from a container's process up to the
// runtime's shim.
const maxAncestors = 16

// Annotations returns the annotations of the OCI bundle of the container
// process pid runs in: the config.json of the first ancestor that shows
// its bundle, in its working directory (containerd's shim runs in the
// bundle) or after -b/--bundle on its command line (podman's conmon,
// runc, crun), whose config.json is a runtime spec. It returns nil when no
// ancestor shows one (the processes are gone, or the engine keeps its
// bundle elsewhere).
func Annotations(pid int) map[string]string {
	for i := 0; i < maxAncestors && pid > 1; i++ {
		for _, dir := range bundleDirs(pid) { // host processes only
			if a, ok := readAnnotations(filepath.Join(dir, "config.json")); ok {
				return a
			}
		}
		st, err := proc.ReadStat(pid)
		if err != nil {
			return nil
		}
		pid = st.PPid
	}
	return nil
}

// bundleDirs are where process pid may show its bundle; none when pid
// runs in another mount namespace than ours (a container's own process:
// its paths are not the host's).
func bundleDirs(pid int) []string {
	var dirs []string
	root := filepath.Join("/proc", strconv.Itoa(pid))
	ours, err1 := os.Readlink("/proc/self/ns/mnt")
	theirs, err2 := os.Readlink(filepath.Join(root, "ns/mnt"))
	if err1 != nil || err2 != nil || ours != theirs {
		return nil
	}
	if cwd, err := os.Readlink(filepath.Join(root, "cwd")); err == nil {
		dirs = append(dirs, cwd)
	}
	if cmdline, err := os.ReadFile(filepath.Join(root, "cmdline")); err == nil {
		args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
		for i, a := range args {
			switch {
			case (a == "-b" || a == "--bundle") && i+1 < len(args):
				dirs = append(dirs, args[i+1])
			case strings.HasPrefix(a, "--bundle="):
				dirs = append(dirs, strings.TrimPrefix(a, "--bundle="))
			}
		}
	}
	return dirs
}

// readAnnotations reads the annotations of the runtime spec at path.
func readAnnotations(path string) (map[string]string, bool) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() || st.Size() > 16<<20 {
		return nil, false
	}
	var spec struct {
		OCIVersion  string            `json:"ociVersion"`
		Annotations map[string]string `json:"annotations"`
	}
	if json.NewDecoder(f).Decode(&spec) != nil || spec.OCIVersion == "" {
		return nil, false
	}
	if spec.Annotations == nil {
		spec.Annotations = map[string]string{}
	}
	return spec.Annotations, true
}
