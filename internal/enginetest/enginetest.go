package enginetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// TestImage is the image both engines import from RootfsTar.
const TestImage = "localhost/profgen-runc-test"

// RootfsTar writes the test image's rootfs into dir and returns its tar:
// empty, with bin, lib, lib64 and sbin linking into usr/.
func RootfsTar(dir string) (string, error) {
	rootfs := filepath.Join(dir, "rootfs")
	for _, d := range []string{"usr", "etc", "proc", "dev", "sys", "tmp", "w", "data"} {
		if err := os.MkdirAll(filepath.Join(rootfs, d), 0o755); err != nil {
			return "", err
		}
	}
	for _, l := range []string{"bin", "lib", "lib64", "sbin"} {
		if err := os.Symlink("usr/"+l, filepath.Join(rootfs, l)); err != nil && !os.IsExist(err) {
			return "", err
		}
	}
	tar := filepath.Join(dir, "rootfs.tar")
	if b, err := exec.Command("tar", "-C", rootfs, "-cf", tar, ".").CombinedOutput(); err != nil {
		return "", fmt.Errorf("tar rootfs: %v\n%s", err, b)
	}
	return tar, nil
}

// Podman is a private podman store in Dir.
type Podman struct {
	Dir string
}

// NewPodman makes a podman store in dir and imports TestImage from the
// rootfs tar.
func NewPodman(dir, tar string) (*Podman, error) {
	p := &Podman{Dir: dir}
	if _, err := p.ConfEnv(); err != nil {
		return nil, err
	}
	if b, err := p.Cmd("import", tar, TestImage).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("podman import: %v\n%s", err, b)
	}
	return p, nil
}

// Cmd returns a podman command on the private store, with ConfEnv's
// configuration (runc as the runtime unless args name another).
func (p *Podman) Cmd(args ...string) *exec.Cmd {
	g := []string{"--root", filepath.Join(p.Dir, "root"), "--runroot", filepath.Join(p.Dir, "runroot"),
		"--tmpdir", filepath.Join(p.Dir, "tmp"), "--storage-driver", "vfs", "--events-backend", "none"}
	cmd := exec.Command("podman", append(g, args...)...)
	cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+filepath.Join(p.Dir, "containers.conf"))
	return cmd
}

// Remove removes every container and image of the store.
func (p *Podman) Remove() {
	p.Cmd("rm", "--all", "--force").Run()
	p.Cmd("rmi", "--all", "--force").Run()
}

// ConfEnv returns the environment that points podman at the private
// store through its configuration files, as Cmd's flags do: for podman
// commands profgen runs itself.
func (p *Podman) ConfEnv() ([]string, error) {
	storage := filepath.Join(p.Dir, "storage.conf")
	conf := filepath.Join(p.Dir, "containers.conf")
	files := map[string]string{
		storage: fmt.Sprintf("[storage]\ndriver = \"vfs\"\ngraphroot = %q\nrunroot = %q\n", filepath.Join(p.Dir, "root"), filepath.Join(p.Dir, "runroot")),
		// runc: podman would pick crun once it is installed, and crun
		// refuses this host's hybrid cgroups.
		conf: fmt.Sprintf("[engine]\nruntime = \"runc\"\ntmp_dir = %q\nevents_logger = \"none\"\n", filepath.Join(p.Dir, "tmp")),
	}
	for path, data := range files {
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			return nil, err
		}
	}
	return append(os.Environ(), "CONTAINERS_STORAGE_CONF="+storage, "CONTAINERS_CONF="+conf), nil
}

// PodmanRunArgs are the arguments of `podman run` that every test
// container needs here (rlimits root may set, the host network, /usr and
// /etc), binding bin's directory at /w and data at /data.
func PodmanRunArgs(bin, data string) []string {
	return []string{"--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "--network", "host",
		"-v", "/usr:/usr:ro", "-v", "/etc:/etc:ro", "-v", filepath.Dir(bin) + ":/w:ro", "-v", data + ":/data"}
}

// DockerRuntime is an OCI runtime registered with the private dockerd.
type DockerRuntime struct {
	Path string   `json:"path"`
	Args []string `json:"runtimeArgs,omitempty"`
}

// Docker is a private dockerd (own socket, data root, exec root and
// managed containerd; no iptables, no bridge) in Dir.
type Docker struct {
	Dir    string
	docker string
	cmd    *exec.Cmd
}

// StartDocker starts dockerd in dir with the runtimes registered and
// imports TestImage from the rootfs tar.
func StartDocker(dir, tar string, runtimes map[string]DockerRuntime) (*Docker, error) {
	return StartDockerWith(dir, tar, runtimes, nil)
}

// StartDockerWith is StartDocker with wrap, if not nil, applied to the
// dockerd command before it starts (to run it through a launcher).
func StartDockerWith(dir, tar string, runtimes map[string]DockerRuntime, wrap func(*exec.Cmd)) (*Docker, error) {
	d := &Docker{Dir: dir, docker: "/usr/bin/docker"}
	if _, err := os.Stat(d.docker); err != nil {
		if d.docker, err = exec.LookPath("docker"); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	conf, _ := json.Marshal(map[string]any{"runtimes": runtimes})
	confPath := filepath.Join(dir, "daemon.json")
	if err := os.WriteFile(confPath, conf, 0o644); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "dockerd.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	d.cmd = exec.Command("dockerd", "--config-file", confPath, "--iptables=false", "--ip6tables=false", "--bridge=none",
		"--storage-driver", "vfs", "--host", d.Host(),
		"--data-root", filepath.Join(dir, "data"), "--exec-root", filepath.Join(dir, "exec"), "--pidfile", filepath.Join(dir, "dockerd.pid"))
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if wrap != nil {
		wrap(d.cmd)
	}
	if err := d.cmd.Start(); err != nil {
		return nil, err
	}
	for deadline := time.Now().Add(time.Minute); d.Cmd("version").Run() != nil; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			d.Stop()
			log, _ := os.ReadFile(logf.Name())
			return nil, fmt.Errorf("dockerd did not start:\n%s", log)
		}
	}
	if b, err := d.Cmd("import", tar, TestImage).CombinedOutput(); err != nil {
		d.Stop()
		return nil, fmt.Errorf("docker import: %v\n%s", err, b)
	}
	return d, nil
}

// Host is the daemon's address, for docker --host or DOCKER_HOST.
func (d *Docker) Host() string { return "unix://" + filepath.Join(d.Dir, "docker.sock") }

// Env returns the environment with DOCKER_HOST set to the private daemon:
// for docker commands profgen runs itself.
func (d *Docker) Env() []string { return append(os.Environ(), "DOCKER_HOST="+d.Host()) }

// Cmd returns a docker command on the private daemon.
func (d *Docker) Cmd(args ...string) *exec.Cmd {
	return exec.Command(d.docker, append([]string{"--host", d.Host()}, args...)...)
}

// Stop removes the containers and stops dockerd (and its containerd).
func (d *Docker) Stop() {
	if ids, err := d.Cmd("ps", "-aq").Output(); err == nil && len(strings.TrimSpace(string(ids))) > 0 {
		d.Cmd(append([]string{"rm", "-f"}, strings.Fields(string(ids))...)...).Run()
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { d.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	// dockerd leaves its default network namespace bound in the exec root.
	if data, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(f[4], d.Dir+"/") {
				syscall.Unmount(f[4], syscall.MNT_DETACH)
			}
		}
	}
}

// DockerRunArgs are the arguments of `docker run` that every test
// container needs here, binding bin's directory at /w and data at /data.
func DockerRunArgs(bin, data string) []string {
	return []string{"--network", "host", "-v", "/usr:/usr:ro", "-v", "/etc:/etc:ro", "-v", filepath.Dir(bin) + ":/w:ro", "-v", data + ":/data"}
}

// Run runs cmd and returns its exit status and combined output; it fails
// the test when cmd cannot be run at all.
func Run(t testing.TB, cmd *exec.Cmd) (int, string) {
	t.Helper()
	var b bytes.Buffer
	cmd.Stdout, cmd.Stderr = &b, &b
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("%v: %v", cmd.Args, err)
	}
	return cmd.ProcessState.ExitCode(), b.String()
}

// CrunUnshare returns a command that runs script with sh in a private
// mount namespace where the cgroup v2 mount mnt's cgroup.controllers is
// covered by the empty file empty. crun 1.8 refuses a hybrid cgroup host
// ("cgroups in hybrid mode not supported, drop all controllers from
// cgroupv2"); covered, it puts its containers in cgroup v2 directories of
// their own as on a unified host.
func CrunUnshare(mnt, empty, script string) *exec.Cmd {
	return exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c",
		fmt.Sprintf("set -e\nmount --bind %q %q\n%s", empty, filepath.Join(mnt, "cgroup.controllers"), script))
}

// WithoutSyscall writes the OCI profile in to out without the syscall
// name: what makes a workload fail under its own profile, for tests that
// show a profile is needed whole. It fails when in does not allow name.
func WithoutSyscall(t testing.TB, in, out, name string) {
	t.Helper()
	data, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	var doc specs.LinuxSeccomp
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", in, err)
	}
	removed := false
	for i := range doc.Syscalls {
		n := len(doc.Syscalls[i].Names)
		doc.Syscalls[i].Names = slices.DeleteFunc(doc.Syscalls[i].Names, func(s string) bool { return s == name })
		removed = removed || len(doc.Syscalls[i].Names) < n
	}
	if !removed {
		t.Fatalf("%s does not allow %s", in, name)
	}
	doc.Syscalls = slices.DeleteFunc(doc.Syscalls, func(s specs.LinuxSyscall) bool { return len(s.Names) == 0 })
	if data, err = json.MarshalIndent(&doc, "", "  "); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
