package critest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

// CrictlVersion is the crictl scripts/deps.sh builds into bin/.
const CrictlVersion = "v1.37.0"

// PauseImage is the sandbox image Start builds and imports.
const PauseImage = "localhost/profgen-pause:test"

// Handler is the runtime handler Start registers for the binary it is
// given, as a RuntimeClass's handler names it.
const Handler = "profgen-record"

// Crictl returns bin/crictl of the module the working directory is in, or
// crictl on the PATH; an error saying how to build it otherwise.
func Crictl() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			if p := filepath.Join(d, "bin", "crictl"); isExecutable(p) {
				return p, nil
			}
			break
		}
		if d == filepath.Dir(d) {
			break
		}
	}
	if p, err := exec.LookPath("crictl"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("no crictl in bin/ or on the PATH: make deps builds it (go install sigs.k8s.io/cri-tools/cmd/crictl@%s)", CrictlVersion)
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

// Containerd is a private containerd in Dir.
type Containerd struct {
	Dir string
	// Socket is its CRI (and containerd API) socket.
	Socket string
	// CgroupParent is the cgroup every pod of Pod goes under.
	CgroupParent string
	crictl       string
	cmd          *exec.Cmd
	done         chan struct{}
}

// Start starts containerd in dir (made if missing) with the handler
// Handler running binary (a runc-compatible runtime), imports PauseImage,
// built from the pause program of this package's testdata, and the images
// of the OCI archives in images (podman save --format oci-archive).
func Start(dir, binary string, images ...string) (*Containerd, error) {
	crictl, err := Crictl()
	if err != nil {
		return nil, err
	}
	for _, tool := range []string{"containerd", "ctr", "containerd-shim-runc-v2"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("%s is not installed (make deps installs Debian's containerd)", tool)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	c := &Containerd{Dir: dir, Socket: filepath.Join(dir, "containerd.sock"), crictl: crictl,
		CgroupParent: fmt.Sprintf("/profgen-critest-%d", os.Getpid())}
	conf := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(conf, []byte(c.config(binary)), 0o644); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "containerd.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	c.cmd = exec.Command("containerd", "--config", conf)
	c.cmd.Stdout, c.cmd.Stderr = logf, logf
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.cmd.Start(); err != nil {
		return nil, err
	}
	c.done = make(chan struct{})
	go func() { c.cmd.Wait(); close(c.done) }()
	for deadline := time.Now().Add(time.Minute); c.Crictl("info").Run() != nil; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			c.Stop()
			log, _ := os.ReadFile(logf.Name())
			return nil, fmt.Errorf("containerd did not start:\n%s", log)
		}
	}
	pause, err := c.pauseArchive()
	if err != nil {
		c.Stop()
		return nil, err
	}
	for _, img := range append([]string{pause}, images...) {
		if b, err := c.Ctr("images", "import", img).CombinedOutput(); err != nil {
			c.Stop()
			return nil, fmt.Errorf("ctr images import %s: %v\n%s", img, err, b)
		}
	}
	return c, nil
}

// config is containerd's configuration: everything under Dir, the CRI
// plugin with Handler running binary and a runc handler, no CNI.
func (c *Containerd) config(binary string) string {
	d := c.Dir
	return fmt.Sprintf(`version = 2
root = %[1]q
state = %[2]q
[grpc]
  address = %[3]q
[ttrpc]
  address = %[4]q
[debug]
  address = %[5]q
[plugins."io.containerd.internal.v1.opt"]
  path = %[6]q
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %[7]q
  # root lacks CAP_SYS_RESOURCE here: runc could not raise oom_score_adj.
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = %[8]q
    conf_dir = %[8]q
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "native"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = %[9]q
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.%[10]s]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.%[10]s.options]
        BinaryName = %[11]q
        Root = %[9]q
`, filepath.Join(d, "root"), filepath.Join(d, "state"), c.Socket, c.Socket+".ttrpc",
		filepath.Join(d, "debug.sock"), filepath.Join(d, "opt"), PauseImage, filepath.Join(d, "cni"),
		filepath.Join(d, "runc"), Handler, binary)
}

// pauseArchive builds the pause program statically into a rootfs and
// returns PauseImage as an OCI archive.
func (c *Containerd) pauseArchive() (string, error) {
	_, file, _, _ := runtime.Caller(0)
	src := filepath.Join(filepath.Dir(file), "testdata", "pause")
	rootfs := filepath.Join(c.Dir, "pause-rootfs")
	if err := os.MkdirAll(rootfs, 0o755); err != nil {
		return "", err
	}
	build := exec.Command("go", "build", "-o", filepath.Join(rootfs, "pause"), ".")
	build.Dir = src
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build pause: %v\n%s", err, b)
	}
	return OCIArchive(c.Dir, rootfs, PauseImage, []string{"/pause"})
}

// OCIArchive writes an OCI image archive of rootfs named ref, with
// entrypoint, into dir, through a throwaway podman store (podman import,
// podman save --format oci-archive), and returns its path.
func OCIArchive(dir, rootfs, ref string, entrypoint []string) (string, error) {
	name := strings.NewReplacer("/", "_", ":", "_").Replace(ref)
	tar := filepath.Join(dir, name+".rootfs.tar")
	if b, err := exec.Command("tar", "-C", rootfs, "-cf", tar, ".").CombinedOutput(); err != nil {
		return "", fmt.Errorf("tar %s: %v\n%s", rootfs, err, b)
	}
	// podman refuses a run root path longer than 50 characters.
	store, err := os.MkdirTemp("", "critest-")
	if err != nil {
		return "", err
	}
	podman := func(args ...string) *exec.Cmd {
		g := []string{"--root", filepath.Join(store, "root"), "--runroot", filepath.Join(store, "runroot"),
			"--tmpdir", filepath.Join(store, "tmp"), "--storage-driver", "vfs", "--events-backend", "none"}
		return exec.Command("podman", append(g, args...)...)
	}
	defer func() {
		podman("rmi", "--all", "--force").Run()
		os.RemoveAll(store)
		os.Remove(tar)
	}()
	args := []string{"import"}
	if len(entrypoint) > 0 {
		ep, _ := json.Marshal(entrypoint)
		args = append(args, "--change", "ENTRYPOINT "+string(ep))
	}
	if b, err := podman(append(args, tar, ref)...).CombinedOutput(); err != nil {
		return "", fmt.Errorf("podman import %s: %v\n%s", ref, err, b)
	}
	out := filepath.Join(dir, name+".oci.tar")
	if b, err := podman("save", "--format", "oci-archive", "-o", out, ref).CombinedOutput(); err != nil {
		return "", fmt.Errorf("podman save %s: %v\n%s", ref, err, b)
	}
	return out, nil
}

// Crictl returns a crictl command on the private containerd.
func (c *Containerd) Crictl(args ...string) *exec.Cmd {
	g := []string{"--runtime-endpoint", "unix://" + c.Socket, "--image-endpoint", "unix://" + c.Socket, "--timeout", "60s"}
	return exec.Command(c.crictl, append(g, args...)...)
}

// Ctr returns a ctr command on the private containerd's k8s.io namespace,
// CRI's.
func (c *Containerd) Ctr(args ...string) *exec.Cmd {
	return exec.Command("ctr", append([]string{"--address", c.Socket, "--namespace", "k8s.io"}, args...)...)
}

// Pod is a pod sandbox's CRI configuration, as crictl reads it (the field
// names of k8s.io/cri-api's PodSandboxConfig).
type Pod struct {
	Metadata     Metadata          `json:"metadata"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	LogDirectory string            `json:"log_directory,omitempty"`
	Linux        PodLinux          `json:"linux"`
}

// Metadata names a pod (Name, Namespace, UID) or a container (Name).
type Metadata struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
	UID       string `json:"uid,omitempty"`
	Attempt   int    `json:"attempt,omitempty"`
}

// PodLinux is a pod's Linux settings.
type PodLinux struct {
	CgroupParent    string          `json:"cgroup_parent,omitempty"`
	SecurityContext SecurityContext `json:"security_context"`
}

// SecurityContext is a pod's or container's security context.
type SecurityContext struct {
	// NamespaceOptions' network 2 is the node's network (no CNI).
	NamespaceOptions *NamespaceOptions `json:"namespace_options,omitempty"`
	Seccomp          *Seccomp          `json:"seccomp,omitempty"`
}

// NamespaceOptions are CRI's namespace modes (2: NODE).
type NamespaceOptions struct {
	Network int `json:"network"`
	Pid     int `json:"pid,omitempty"`
}

// Seccomp is CRI's security profile; ProfileType 0 is RuntimeDefault,
// 1 Unconfined, 2 Localhost.
type Seccomp struct {
	ProfileType int `json:"profile_type"`
	// LocalhostRef is the profile's path on the node (ProfileType 2).
	LocalhostRef string `json:"localhost_ref,omitempty"`
}

// Container is a container's CRI configuration.
type Container struct {
	Metadata Metadata `json:"metadata"`
	Image    struct {
		Image string `json:"image"`
	} `json:"image"`
	Command []string          `json:"command,omitempty"`
	Args    []string          `json:"args,omitempty"`
	Mounts  []Mount           `json:"mounts,omitempty"`
	LogPath string            `json:"log_path,omitempty"`
	Linux   ContainerLinux    `json:"linux"`
	Labels  map[string]string `json:"labels,omitempty"`
}

// Mount is a bind mount of a container.
type Mount struct {
	ContainerPath string `json:"container_path"`
	HostPath      string `json:"host_path"`
	Readonly      bool   `json:"readonly,omitempty"`
}

// ContainerLinux is a container's Linux settings.
type ContainerLinux struct {
	SecurityContext SecurityContext `json:"security_context"`
}

// HostPod is a pod on the node's network, under the containerd's
// CgroupParent.
func (c *Containerd) HostPod(name, namespace string) Pod {
	return Pod{
		Metadata:     Metadata{Name: name, Namespace: namespace, UID: name + "-uid"},
		LogDirectory: filepath.Join(c.Dir, "logs", namespace, name),
		Linux: PodLinux{CgroupParent: c.CgroupParent,
			SecurityContext: SecurityContext{NamespaceOptions: &NamespaceOptions{Network: 2}}},
	}
}

// HostContainer is a container named name running image's argv with the
// host's /usr and /etc bound read-only (as enginetest's images expect).
func HostContainer(name, image string, argv []string) Container {
	ctr := Container{Metadata: Metadata{Name: name}, Command: argv, LogPath: name + ".log",
		Mounts: []Mount{{"/usr", "/usr", true}, {"/etc", "/etc", true}}}
	ctr.Image.Image = image
	return ctr
}

// RunPod runs pod with the runtime handler (Handler, or "" for the
// default) and returns its id.
func (c *Containerd) RunPod(pod Pod, handler string) (string, error) {
	if err := os.MkdirAll(pod.LogDirectory, 0o755); err != nil {
		return "", err
	}
	path, err := c.writeJSON("pod-"+pod.Metadata.Namespace+"-"+pod.Metadata.Name, pod)
	if err != nil {
		return "", err
	}
	args := []string{"runp"}
	if handler != "" {
		args = append(args, "--runtime", handler)
	}
	return c.output(append(args, path)...)
}

// StartContainer creates ctr in the pod (id podID, configuration pod) and
// starts it; it returns the container's id.
func (c *Containerd) StartContainer(podID string, pod Pod, ctr Container) (string, error) {
	pp, err := c.writeJSON("pod-"+pod.Metadata.Namespace+"-"+pod.Metadata.Name, pod)
	if err != nil {
		return "", err
	}
	cp, err := c.writeJSON("ctr-"+pod.Metadata.Name+"-"+ctr.Metadata.Name, ctr)
	if err != nil {
		return "", err
	}
	id, err := c.output("create", podID, cp, pp)
	if err != nil {
		return "", err
	}
	if _, err := c.output("start", id); err != nil {
		return id, err
	}
	return id, nil
}

// StopContainer stops container id as kubelet does: SIGTERM, then SIGKILL
// after the grace period (seconds). Stopping a pod alone kills its
// containers at once.
func (c *Containerd) StopContainer(id string, grace int) error {
	_, err := c.output("stop", "--timeout", fmt.Sprint(grace), id)
	return err
}

// StopPod stops and removes pod id and its containers.
func (c *Containerd) StopPod(id string) error {
	if _, err := c.output("stopp", id); err != nil {
		return err
	}
	_, err := c.output("rmp", id)
	return err
}

func (c *Containerd) writeJSON(name string, v any) (string, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	path := filepath.Join(c.Dir, name+".json")
	return path, os.WriteFile(path, data, 0o644)
}

// output runs crictl and returns its trimmed standard output, or an error
// with its standard error.
func (c *Containerd) output(args ...string) (string, error) {
	cmd := c.Crictl(args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("crictl %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// Log returns containerd's log so far.
func (c *Containerd) Log() string {
	b, _ := os.ReadFile(filepath.Join(c.Dir, "containerd.log"))
	return string(b)
}

// Stop removes every pod, stops containerd and the shims it started, and
// removes the mounts under Dir and the cgroups under CgroupParent. Dir
// itself is left to its owner.
func (c *Containerd) Stop() error {
	var errs []error
	if ids, err := c.output("pods", "-q"); err == nil {
		for _, id := range strings.Fields(ids) {
			c.output("stopp", id)
			if _, err := c.output("rmp", "--force", id); err != nil {
				errs = append(errs, err)
			}
		}
	}
	shims := c.shims()
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
		<-c.done
	}
	for _, pid := range shims {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	unmountUnder(c.Dir)
	if err := removeCgroups(c.CgroupParent); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// shims returns the pids of the containerd-shim-runc-v2 processes of this
// containerd (their command line names its socket).
func (c *Containerd) shims() []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		var pid int
		if _, err := fmt.Sscan(e.Name(), &pid); err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(cmdline), "\x00")
		if strings.HasSuffix(args[0], "containerd-shim-runc-v2") && slices.Contains(args, c.Socket) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// unmountUnder detaches every mount point under dir, deepest first.
func unmountUnder(dir string) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return
	}
	var points []string
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
			points = append(points, f[4])
		}
	}
	slices.SortFunc(points, func(a, b string) int { return len(b) - len(a) })
	for _, p := range points {
		syscall.Unmount(p, syscall.MNT_DETACH)
	}
}

// removeCgroups removes parent, and the cgroups under it, from every
// cgroup hierarchy mounted under /sys/fs/cgroup.
func removeCgroups(parent string) error {
	roots, _ := filepath.Glob("/sys/fs/cgroup/*")
	roots = append(roots, "/sys/fs/cgroup")
	var errs []error
	for _, root := range roots {
		top := filepath.Join(root, parent)
		if _, err := os.Stat(filepath.Join(top, "cgroup.procs")); err != nil {
			continue
		}
		var dirs []string
		filepath.WalkDir(top, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		slices.SortFunc(dirs, func(a, b string) int { return len(b) - len(a) })
		for _, d := range dirs {
			var err error
			for i := 0; i < 50; i++ {
				if err = os.Remove(d); err == nil || os.IsNotExist(err) {
					err = nil
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("remove cgroup %s: %w", d, err))
			}
		}
	}
	return errors.Join(errs...)
}
