package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/profgen/profgen/filter"
	"github.com/profgen/profgen/internal/fileio"
	ll "github.com/profgen/profgen/internal/landlock"
	iseccomp "github.com/profgen/profgen/internal/seccomp"
	"github.com/profgen/profgen/landlock"
	"github.com/profgen/profgen/recording"
)

// AnnotationLandlock names a Landlock ruleset (Landlock's configuration
// format, emit --format landlock; an absolute path on the host, the
// ruleset's paths those of the container) that the container's process
// runs under.
const AnnotationLandlock = "io.profgen.landlock"

// LandlockLauncher is the static launcher profgen-runc bind-mounts into the
// container (from beside its own executable) and puts in front of
// process.args; landlockDir is where it and the ruleset are mounted
// (internal/landlock, which replay shares).
const (
	LandlockLauncher = ll.LauncherName
	landlockDir      = ll.ContainerDir
)

// landlockPlan is what the annotation asks for: the launcher's path on the
// host and the ruleset as the launcher reads it.
type landlockPlan struct {
	launcher string
	ruleset  []byte
	notes    []string
}

// planLandlock reads the annotation's ruleset and finds the launcher,
// before anything is changed; nil when there is no annotation.
func planLandlock(ann map[string]string) (*landlockPlan, error) {
	file := ann[AnnotationLandlock]
	if file == "" {
		return nil, nil
	}
	where := fmt.Sprintf("annotation %s=%s", AnnotationLandlock, file)
	if !filepath.IsAbs(file) {
		return nil, fmt.Errorf("%s: the ruleset's path must be absolute", where)
	}
	data, err := fileio.ReadFile(file, 0, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	r, err := landlock.ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	launcher, err := ll.FindLauncher(self)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	kr, notes := r.Restriction(true).Downgrade(ll.ABI())
	plan := &landlockPlan{launcher: launcher, notes: notes}
	if plan.ruleset, err = json.Marshal(&kr); err != nil {
		return nil, err
	}
	return plan, nil
}

// applyLandlock writes the ruleset into the bundle and rewrites
// config.json: the launcher and the ruleset bind-mounted read-only at
// landlockDir, process.args prefixed by the launcher. When the spec
// carries a seccomp profile (linux.seccomp, as prepareSeccomp left it)
// that the launcher can load (launcherFilter), the filter moves into the
// launcher: compiled here, written into the bundle and mounted beside the
// ruleset, linux.seccomp removed, and the launcher loads it after the
// ruleset, right before its execve, so that its own calls are not the
// profile's to allow (moved; the returned note then says where that
// filter is stricter than runc's, if anywhere). Otherwise the runtime keeps it, and
// the note says why. Other fields are kept as they were.
func applyLandlock(config, bundle string, plan *landlockPlan) (moved bool, note string, err error) {
	rsFile := filepath.Join(bundle, "profgen-landlock.json")
	if err := os.WriteFile(rsFile, plan.ruleset, 0o644); err != nil {
		return false, "", fmt.Errorf("landlock ruleset: %w", err)
	}
	data, err := os.ReadFile(config)
	if err != nil {
		return false, "", err
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return false, "", fmt.Errorf("%s: %w", config, err)
	}
	var process map[string]json.RawMessage
	if err := json.Unmarshal(top["process"], &process); err != nil {
		return false, "", fmt.Errorf("%s: process: %w", config, err)
	}
	var args []string
	if err := json.Unmarshal(process["args"], &args); err != nil || len(args) == 0 {
		return false, "", fmt.Errorf("%s: process.args: no command to put the launcher in front of", config)
	}
	binds := []struct{ src, dst string }{{plan.launcher, ll.ContainerLauncher}, {rsFile, ll.ContainerRuleset}}
	prog, note, err := launcherFilter(config, top)
	if err != nil {
		return false, "", err
	}
	if prog != nil {
		// Where it is stricter than runc's (names of another listed
		// architecture only).
		for _, n := range prog.Notes {
			note += "the seccomp filter the launcher loads (compiled as runc would, but stricter here): " + n + "; "
		}
		note = strings.TrimSuffix(note, "; ")
		bpfFile := filepath.Join(bundle, "profgen-seccomp.bpf")
		if err := os.WriteFile(bpfFile, iseccomp.EncodeFilter(prog.Program), 0o644); err != nil {
			return false, "", fmt.Errorf("seccomp filter: %w", err)
		}
		binds = append(binds, struct{ src, dst string }{bpfFile, ll.ContainerSeccomp})
		args = ll.LauncherArgsFilter(args, prog.Flags)
	} else {
		args = ll.LauncherArgs(args)
	}
	var mounts []json.RawMessage
	if raw, ok := top["mounts"]; ok {
		if err := json.Unmarshal(raw, &mounts); err != nil {
			return false, "", fmt.Errorf("%s: mounts: %w", config, err)
		}
	}
	for _, m := range binds {
		raw, err := json.Marshal(map[string]any{"destination": m.dst, "type": "bind", "source": m.src, "options": []string{"bind", "ro"}})
		if err != nil {
			return false, "", err
		}
		mounts = append(mounts, raw)
	}
	if process["args"], err = json.Marshal(args); err != nil {
		return false, "", err
	}
	if top["process"], err = json.Marshal(process); err != nil {
		return false, "", err
	}
	if top["mounts"], err = json.Marshal(mounts); err != nil {
		return false, "", err
	}
	out, err := json.Marshal(top)
	if err != nil {
		return false, "", err
	}
	return prog != nil, note, fileio.Write(config, nil, func(w io.Writer) error {
		_, err := w.Write(out)
		return err
	})
}

// launcherFilter compiles config.json's linux.seccomp (top is the
// document, whose linux.seccomp it removes) for the launcher, as runc
// would have loaded it (filter.CompileOCI); nil when there is none. A
// profile the launcher cannot load (a notify action, one profgen cannot
// read as runc does) stays with the runtime, and the note says that the
// launcher then runs under it.
func launcherFilter(config string, top map[string]json.RawMessage) (*filter.OCIProgram, string, error) {
	var linux map[string]json.RawMessage
	if raw, ok := top["linux"]; ok {
		if err := json.Unmarshal(raw, &linux); err != nil {
			return nil, "", fmt.Errorf("%s: linux: %w", config, err)
		}
	}
	raw, ok := linux["seccomp"]
	if !ok || string(raw) == "null" {
		return nil, "", nil
	}
	var doc specs.LinuxSeccomp
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, "", fmt.Errorf("%s: linux.seccomp: %w", config, err)
	}
	prog, err := filter.CompileOCI(&doc)
	if err != nil {
		return nil, fmt.Sprintf("the container's seccomp profile stays with the runtime, which loads it before the Landlock launcher %s runs (its calls must then be in the profile): %v", LandlockLauncher, err), nil
	}
	delete(linux, "seccomp")
	if top["linux"], err = json.Marshal(linux); err != nil {
		return nil, "", err
	}
	return prog, "", nil
}

// withoutLauncherCalls returns rec less the calls that only the Landlock
// launcher (LandlockLauncher, at ll.ContainerLauncher) made, but its
// execve of the command: with the filter moved into the launcher they ran
// before it, never under the engine's profile, which is not to be judged
// by them. A call the recording names no executable of is kept.
func withoutLauncherCalls(rec *recording.Recording) *recording.Recording {
	out := *rec
	out.Syscalls = slices.DeleteFunc(slices.Clone(rec.Syscalls), func(s recording.Syscall) bool {
		return s.Name != "execve" && s.OtherExes == 0 && slices.Equal(s.Exes, []string{ll.ContainerLauncher})
	})
	return &out
}
