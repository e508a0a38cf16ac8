package replay

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/profgen/profgen/filter"
	"github.com/profgen/profgen/internal/audit"
	ll "github.com/profgen/profgen/internal/landlock"
	"github.com/profgen/profgen/internal/runc"
	"github.com/profgen/profgen/internal/seccomp"
	"github.com/profgen/profgen/landlock"
	"github.com/profgen/profgen/recording"
)

// LandlockViolation is an access a Landlock ruleset denied (live: named
// by Landlock's own audit records) or would deny (static: a recorded
// access no rule allows).
type LandlockViolation struct {
	// Access is the right denied, by its name in Landlock's
	// configuration format: read_file, make_reg, bind_tcp, ...
	Access string `json:"access"`
	// Path is the file or directory (the directory, for rights checked
	// on it: make_*, remove_*, refer); Port the TCP port.
	Path string `json:"path,omitempty"`
	Port int    `json:"port,omitempty"`
	// Pid (the first), Comm and Exe name the process (live).
	Pid   int    `json:"pid,omitempty"`
	Comm  string `json:"comm,omitempty"`
	Exe   string `json:"exe,omitempty"`
	Count uint64 `json:"count"`
}

// key is what tells two violations apart.
func (v LandlockViolation) key() string {
	return fmt.Sprintf("%s\x00%s\x00%d\x00%s\x00%s", v.Access, v.Path, v.Port, v.Comm, v.Exe)
}

// addLandlock adds v to r, one entry per access, path or port, and
// process.
func (r *Report) addLandlock(v LandlockViolation) {
	i := slices.IndexFunc(r.Landlock, func(w LandlockViolation) bool { return w.key() == v.key() })
	if i >= 0 {
		r.Landlock[i].Count += v.Count
		return
	}
	r.Landlock = append(r.Landlock, v)
	slices.SortFunc(r.Landlock, func(a, b LandlockViolation) int { return strings.Compare(a.key(), b.key()) })
}

// landlockViolations turns one audit denial into violations, one per
// blocker.
func landlockViolations(d audit.LandlockDenial) []LandlockViolation {
	var out []LandlockViolation
	for _, b := range d.Blockers {
		_, access, ok := strings.Cut(b, ".")
		if !ok {
			access = b
		}
		out = append(out, LandlockViolation{
			Access: access, Path: d.Path, Port: d.Port,
			Pid: d.Process.Pid, Comm: d.Process.Comm, Exe: d.Process.Exe, Count: 1,
		})
	}
	return out
}

// addLandlockDenials adds the violations of Landlock's audit denials.
func (r *Report) addLandlockDenials(ds []audit.LandlockDenial) {
	for _, d := range ds {
		for _, v := range landlockViolations(d) {
			r.addLandlock(v)
		}
	}
}

// mergeLandlock adds the Landlock violations of another run's report.
func (r *Report) mergeLandlock(o *Report) {
	if o.Landlock != nil && r.Landlock == nil {
		r.Landlock = []LandlockViolation{}
	}
	for _, v := range o.Landlock {
		r.addLandlock(v)
	}
}

// StaticLandlock checks every access the recording's landlock section
// holds that succeeded, and every TCP port bound or connected to, against
// the ruleset, as the kernel would check it (a right checked on the
// directory, on the entry's directory; landlock.Target): each one no rule
// allows is a violation. Failed accesses are not checked: the ruleset
// does not grant them (docs/landlock.md).
func StaticLandlock(r *landlock.Ruleset, rec *recording.Recording) (*Report, error) {
	raw, ok := rec.Sections[recording.LandlockKind]
	if !ok {
		return nil, fmt.Errorf("static replay: the recording has no %s section to check the ruleset against", recording.LandlockKind)
	}
	sec, err := recording.ParseLandlock(raw)
	if err != nil {
		return nil, fmt.Errorf("static replay: section %s: %w", recording.LandlockKind, err)
	}
	rep := &Report{Mode: ModeStatic, Violations: []Violation{}, Lost: rec.Lost}
	for _, a := range sec.Accesses {
		if a.OK == 0 {
			continue
		}
		rep.Checked++
		target := landlock.Target(a)
		if ok, _ := r.Allows(target, a.Right); !ok {
			rep.addLandlock(LandlockViolation{Access: a.Right, Path: target, Count: a.OK})
		}
	}
	for _, side := range []struct {
		access string
		ports  []recording.LandlockPort
	}{{"bind_tcp", sec.TCPBind}, {"connect_tcp", sec.TCPConnect}} {
		for _, p := range side.ports {
			rep.Checked++
			if !r.AllowsPort(side.access, uint64(p.Port)) {
				rep.addLandlock(LandlockViolation{Access: side.access, Port: int(p.Port), Count: p.Count})
			}
		}
	}
	if len(sec.Unresolved) > 0 {
		var n uint64
		for _, u := range sec.Unresolved {
			n += u.Count
		}
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d accesses of the recording were not resolved to a path: not checked", n))
	}
	return rep, nil
}

// writeLandlock writes r's Landlock violations as a table.
func (r *Report) writeLandlock(w io.Writer) {
	if len(r.Landlock) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if r.Mode == ModeLive {
		fmt.Fprintln(tw, "LANDLOCK DENIED\tPATH OR PORT\tCOUNT\tPID\tCOMM\tEXE")
	} else {
		fmt.Fprintln(tw, "LANDLOCK DENIED\tPATH OR PORT\tCOUNT")
	}
	for _, v := range r.Landlock {
		what := v.Path
		if v.Port != 0 || what == "" {
			what = fmt.Sprintf("port %d", v.Port)
		}
		if r.Mode == ModeLive {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\n", v.Access, what, v.Count, v.Pid, orDash(v.Comm), orDash(v.Exe))
		} else {
			fmt.Fprintf(tw, "%s\t%s\t%d\n", v.Access, what, v.Count)
		}
	}
	tw.Flush()
}

// landlockRun prepares a live run under opts.Landlock: audit turned on
// while the run needs it (restore turns it back), the ruleset as this
// kernel enforces it (Downgrade, its notes in rep), and rep failed when
// the kernel cannot name Landlock's denials (Linux 6.15 logs them): no
// verdict for the ruleset then.
func landlockRun(opts LiveOptions, rep *Report) (kr ll.Ruleset, restore func() error, err error) {
	if restore, err = audit.EnableForLandlock(); err != nil {
		return kr, nil, fmt.Errorf("landlock: %w", err)
	}
	kr, notes := opts.Landlock.Restriction(true).Downgrade(ll.ABI())
	rep.Notes = append(rep.Notes, notes...)
	if !kr.Log {
		rep.fail("Landlock's denials cannot be named on this kernel (its audit records need Linux 6.15): no verdict for the ruleset")
	}
	rep.Landlock = []LandlockViolation{}
	return kr, restore, nil
}

// containerLandlock writes kr into dir as the launcher reads it and
// returns the binds that put the launcher (opts.LandlockLauncher) and the
// ruleset at their places in the container, and the launcher's arguments
// to put in front of the command (internal/landlock, as profgen-runc does
// for io.profgen.landlock). The seccomp profile doc moves into the
// launcher as it does with profgen-runc: compiled as runc would load it
// (filter.CompileOCI), written into dir and bound beside the ruleset; the
// launcher loads it after the ruleset, right before its execve, and the
// runtime is given none.
func containerLandlock(opts LiveOptions, kr ll.Ruleset, dir string, doc *specs.LinuxSeccomp) ([]runc.Bind, []string, error) {
	if kr.HandledFS|kr.HandledNet|kr.Scoped == 0 {
		return nil, nil, errors.New("landlock: the ruleset handles no right this kernel enforces: nothing to replay")
	}
	data, err := json.Marshal(&kr)
	if err != nil {
		return nil, nil, err
	}
	file := filepath.Join(dir, "landlock.json")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		return nil, nil, fmt.Errorf("landlock: %w", err)
	}
	prog, err := filter.CompileOCI(doc)
	if err != nil {
		return nil, nil, fmt.Errorf("landlock: the seccomp filter for the launcher: %w", err)
	}
	bpf := filepath.Join(dir, "seccomp.bpf")
	if err := os.WriteFile(bpf, seccomp.EncodeFilter(prog.Program), 0o644); err != nil {
		return nil, nil, fmt.Errorf("landlock: %w", err)
	}
	return []runc.Bind{
		{Source: opts.LandlockLauncher, Destination: ll.ContainerLauncher},
		{Source: file, Destination: ll.ContainerRuleset},
		{Source: bpf, Destination: ll.ContainerSeccomp},
	}, ll.LauncherArgsFilter(nil, prog.Flags), nil
}

// launcherNote says, when the profile denied calls of the Landlock
// launcher in a container, why: it loads the filter last, so the one call
// it makes under it is the execve of the workload.
func (r *Report) launcherNote(opts LiveOptions) {
	if opts.kernelLandlock == nil || !slices.ContainsFunc(r.Violations, func(v Violation) bool { return v.Exe == ll.ContainerLauncher }) {
		return
	}
	r.Notes = append(r.Notes, fmt.Sprintf("the profile denied calls of the Landlock launcher %s: it loads the seccomp filter after the ruleset, right before it execs the workload, so the profile must allow that execve", ll.ContainerLauncher))
}

// engineTail returns the end of the arguments of `podman run` or `docker
// create` (name): opts.EngineArgs, the image and its command. Under a
// Landlock ruleset (opts.kernelLandlock) the launcher, the ruleset and the
// seccomp filter compiled from doc, written into dir, are bound as
// volumes and the launcher is the entrypoint (after opts.EngineArgs, so
// that it wins), followed by the command the engine resolves from the
// image's entrypoint and command and opts (a container created, inspected
// and removed): the launcher runs exactly what the engine would have run.
// moved says that the launcher loads the filter: the engine is then given
// none (seccomp=unconfined).
func engineTail(name string, opts LiveOptions, dir string, doc *specs.LinuxSeccomp) (tail []string, moved bool, err error) {
	if opts.kernelLandlock == nil {
		return append(slices.Clone(opts.EngineArgs), opts.Command...), false, nil
	}
	binds, launch, err := containerLandlock(opts, *opts.kernelLandlock, dir, doc)
	if err != nil {
		return nil, false, err
	}
	command, err := resolveCommand(name, opts)
	if err != nil {
		return nil, false, err
	}
	var args []string
	for _, b := range binds {
		args = append(args, "-v", b.String())
	}
	args = append(append(args, opts.EngineArgs...), "--entrypoint", launch[0], opts.Command[0])
	return append(append(args, launch[1:]...), command...), true, nil
}

// seccompOpt is the --security-opt of an engine given the profile file,
// or none when the Landlock launcher loads it (moved).
func seccompOpt(file string, moved bool) string {
	if moved {
		return "seccomp=unconfined"
	}
	return "seccomp=" + file
}

// resolveCommand returns the command line the engine name runs for opts
// (IMAGE [CMD...] with opts' engine arguments): it creates the container,
// reads its path and arguments, and removes it.
func resolveCommand(name string, opts LiveOptions) ([]string, error) {
	args := append(append([]string{"create"}, engineFlags(opts)...), opts.EngineArgs...)
	id, err := engineCreate(name, append(args, opts.Command...))
	if err != nil {
		return nil, err
	}
	defer exec.Command(name, "rm", "--force", id).Run()
	var stderr bytes.Buffer
	cmd := exec.Command(name, "inspect", "--format", "{{json .Path}}\n{{json .Args}}", id)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, engineError(name+" inspect", err, stderr.Bytes())
	}
	var path string
	var rest []string
	lines := strings.SplitN(strings.TrimSpace(string(out)), "\n", 2)
	if len(lines) != 2 || json.Unmarshal([]byte(lines[0]), &path) != nil || json.Unmarshal([]byte(lines[1]), &rest) != nil || path == "" {
		return nil, fmt.Errorf("%s inspect: the container's command: unexpected answer %q", name, out)
	}
	return append([]string{path}, rest...), nil
}
