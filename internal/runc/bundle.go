package runc

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// DefaultPath is the PATH a container process gets when BundleOptions.Env
// sets none.
const DefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// usrMergeLinks are the top-level links of a merged-/usr system; the bundle
// recreates them so that /bin/sh and /lib64/ld-linux-x86-64.so.2 resolve
// through the bind-mounted /usr.
var usrMergeLinks = map[string]string{
	"bin":    "usr/bin",
	"sbin":   "usr/sbin",
	"lib":    "usr/lib",
	"lib32":  "usr/lib32",
	"lib64":  "usr/lib64",
	"libx32": "usr/libx32",
}

// etcFiles are copied from the host's /etc when present: what name
// resolution, user lookup and TLS need.
var etcFiles = []string{"resolv.conf", "hosts", "passwd", "group", "nsswitch.conf", "host.conf", "localtime"}

// BundleOptions describe the container.
type BundleOptions struct {
	// Args is the container process's command line. Args[0] is resolved
	// on the host (PATH lookup if it has no slash) and, unless it lies
	// under /usr, bind-mounted read-only at the same path.
	Args []string
	// Env is the process environment; DefaultPath is added when it sets
	// no PATH.
	Env []string
	// Cwd is the working directory inside the container; "/" when empty.
	Cwd string
	// Binds are host paths (files or directories) bind-mounted into the
	// container (ParseBind reads them as --bind takes them).
	Binds []Bind
	// Capabilities of the container process (bounding, effective and
	// permitted sets); nil means DefaultCapabilities, Docker's, and an
	// empty non-nil slice none.
	Capabilities []string
	// NoNewPrivileges sets the process's no_new_privs bit. With it, runc
	// loads the seccomp filter at the very end, just before execve;
	// without it (Docker's default), earlier, while it still holds the
	// capabilities to do so, before dropping them.
	NoNewPrivileges bool
	// Seccomp is the profile to load; nil runs without seccomp.
	Seccomp *specs.LinuxSeccomp
	// Hostname of the container; empty keeps the host's (the container
	// has no UTS namespace then).
	Hostname string
	// Launcher, when set, is put in front of the command in
	// process.args once its program is resolved (the Landlock launcher
	// and its arguments, bind-mounted through Binds).
	Launcher []string
}

// Bundle is an OCI bundle directory: config.json and rootfs.
type Bundle struct {
	// Dir holds config.json and rootfs/.
	Dir string
	// Spec is what config.json holds.
	Spec *specs.Spec
}

// NewBundle writes a bundle into dir, which must be empty or not exist.
func NewBundle(dir string, opts BundleOptions) (*Bundle, error) {
	if len(opts.Args) == 0 {
		return nil, errors.New("runc bundle: no command")
	}
	exe, err := hostBinary(opts.Args[0])
	if err != nil {
		return nil, fmt.Errorf("runc bundle: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("runc bundle: %w", err)
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("runc bundle: %w", err)
	}
	rootfs := filepath.Join(dir, "rootfs")
	if err := makeRootfs(rootfs); err != nil {
		return nil, fmt.Errorf("runc bundle: %w", err)
	}

	mounts := defaultMounts()
	binds := slices.Clone(opts.Binds)
	if !under(exe, "/usr") {
		binds = append(binds, Bind{Source: exe, Destination: exe})
	}
	for _, b := range binds {
		m, err := bindMount(b)
		if err != nil {
			return nil, fmt.Errorf("runc bundle: %w", err)
		}
		mounts = append(mounts, m)
	}

	env := slices.Clone(opts.Env)
	if !slices.ContainsFunc(env, func(e string) bool { return strings.HasPrefix(e, "PATH=") }) {
		env = append(env, DefaultPath)
	}
	cwd := opts.Cwd
	if cwd == "" {
		cwd = "/"
	}
	args := slices.Clone(opts.Args)
	args[0] = exe
	args = append(slices.Clone(opts.Launcher), args...)

	caps := opts.Capabilities
	if caps == nil {
		caps = DefaultCapabilities
	}
	caps = slices.Clone(caps)
	namespaces := []specs.LinuxNamespace{
		{Type: specs.PIDNamespace},
		{Type: specs.IPCNamespace},
		{Type: specs.MountNamespace},
		// No network namespace: the workload shares the host's, so a
		// driver on the host reaches it on loopback.
	}
	if opts.Hostname != "" {
		namespaces = append(namespaces, specs.LinuxNamespace{Type: specs.UTSNamespace})
	}
	spec := &specs.Spec{
		Version: specs.Version,
		Process: &specs.Process{
			User: specs.User{UID: 0, GID: 0},
			Args: args,
			Env:  env,
			Cwd:  cwd,
			Capabilities: &specs.LinuxCapabilities{
				Bounding: caps, Effective: caps, Permitted: caps,
			},
			NoNewPrivileges: opts.NoNewPrivileges,
		},
		Root:     &specs.Root{Path: "rootfs", Readonly: true},
		Hostname: opts.Hostname,
		Mounts:   mounts,
		Linux: &specs.Linux{
			Namespaces: namespaces,
			Seccomp:    opts.Seccomp,
			MaskedPaths: []string{
				"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
				"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
			},
			ReadonlyPaths: []string{
				"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
			},
		},
	}
	data, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("runc bundle: encode config.json: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644); err != nil {
		return nil, fmt.Errorf("runc bundle: %w", err)
	}
	return &Bundle{Dir: dir, Spec: spec}, nil
}

// hostBinary resolves the program name of a command line on the host to an
// absolute path without symbolic links in its last element's directory, so
// that the same path exists inside the container.
func hostBinary(name string) (string, error) {
	path, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("command %q: %w", name, err)
	}
	path, err = filepath.Abs(path)
	if err != nil {
		return "", err
	}
	// /bin/true is /usr/bin/true on a merged-/usr host; resolving links
	// also finds binaries reached through a link elsewhere.
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	return path, nil
}

// makeRootfs creates the skeleton the mounts land on.
func makeRootfs(rootfs string) error {
	for _, d := range []string{"usr", "proc", "dev", "sys", "tmp", "etc", "root", "run", "var/tmp"} {
		if err := os.MkdirAll(filepath.Join(rootfs, d), 0o755); err != nil {
			return err
		}
	}
	for name, target := range usrMergeLinks {
		if _, err := os.Lstat(filepath.Join("/", target)); err != nil {
			continue // the host has no such directory
		}
		link := filepath.Join(rootfs, name)
		if err := os.Symlink(target, link); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
	}
	for _, f := range etcFiles {
		data, err := os.ReadFile(filepath.Join("/etc", f))
		if err != nil {
			continue // not every host has every file
		}
		if err := os.WriteFile(filepath.Join(rootfs, "etc", f), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// defaultMounts are runc's defaults (`runc spec`) plus the host's /usr and a
// tmpfs /tmp.
func defaultMounts() []specs.Mount {
	return []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc"},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		{Destination: "/usr", Type: "bind", Source: "/usr", Options: []string{"rbind", "ro", "nosuid", "nodev"}},
		{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev", "mode=1777"}},
	}
}

// Bind is a host path bind-mounted into the container.
type Bind struct {
	// Source is the host path (a file or a directory), Destination the
	// absolute path inside the container.
	Source, Destination string
	// Writable mounts it read-write; read-only otherwise.
	Writable bool
}

// String is the bind as ParseBind reads it and podman's and docker's -v
// take it: SRC:DST:ro or SRC:DST:rw.
func (b Bind) String() string {
	mode := "ro"
	if b.Writable {
		mode = "rw"
	}
	return b.Source + ":" + b.Destination + ":" + mode
}

// ParseBind reads a bind as --bind takes it: PATH (read-only at the same
// path), SRC:DST (read-only) or SRC:DST:ro|rw. SRC is made absolute; DST
// must be absolute. Whether SRC exists is checked when the bundle is
// written.
func ParseBind(s string) (Bind, error) {
	parts := strings.Split(s, ":")
	if len(parts) > 3 || slices.Contains(parts, "") {
		return Bind{}, fmt.Errorf("bind %q: want PATH, SRC:DST or SRC:DST:ro|rw", s)
	}
	b := Bind{Source: parts[0], Destination: parts[0]}
	if len(parts) > 1 {
		b.Destination = parts[1]
	}
	if len(parts) == 3 {
		switch parts[2] {
		case "ro":
		case "rw":
			b.Writable = true
		default:
			return Bind{}, fmt.Errorf("bind %q: unknown mode %q (want ro or rw)", s, parts[2])
		}
	}
	if !filepath.IsAbs(b.Destination) {
		return Bind{}, fmt.Errorf("bind %q: the container path %q is not absolute", s, b.Destination)
	}
	src, err := filepath.Abs(b.Source)
	if err != nil {
		return Bind{}, fmt.Errorf("bind %q: %w", s, err)
	}
	b.Source, b.Destination = src, filepath.Clean(b.Destination)
	return b, nil
}

// bindMount is the mount of b; its source must exist.
func bindMount(b Bind) (specs.Mount, error) {
	src, err := filepath.Abs(b.Source)
	if err != nil {
		return specs.Mount{}, err
	}
	if _, err := os.Stat(src); err != nil {
		return specs.Mount{}, fmt.Errorf("bind mount: %w", err)
	}
	dst := b.Destination
	if dst == "" {
		dst = src
	}
	opts := []string{"rbind"}
	if !b.Writable {
		opts = append(opts, "ro")
	}
	return specs.Mount{Destination: dst, Type: "bind", Source: src, Options: opts}, nil
}

func under(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, dir+"/")
}
