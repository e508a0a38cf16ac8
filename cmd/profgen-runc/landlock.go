package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/profgen/profgen/internal/fileio"
	ll "github.com/profgen/profgen/internal/landlock"
	"github.com/profgen/profgen/landlock"
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
// landlockDir, process.args prefixed by the launcher. Other fields are
// kept as they were.
func applyLandlock(config, bundle string, plan *landlockPlan) error {
	rsFile := filepath.Join(bundle, "profgen-landlock.json")
	if err := os.WriteFile(rsFile, plan.ruleset, 0o644); err != nil {
		return fmt.Errorf("landlock ruleset: %w", err)
	}
	data, err := os.ReadFile(config)
	if err != nil {
		return err
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return fmt.Errorf("%s: %w", config, err)
	}
	var process map[string]json.RawMessage
	if err := json.Unmarshal(top["process"], &process); err != nil {
		return fmt.Errorf("%s: process: %w", config, err)
	}
	var args []string
	if err := json.Unmarshal(process["args"], &args); err != nil || len(args) == 0 {
		return fmt.Errorf("%s: process.args: no command to put the launcher in front of", config)
	}
	launcher, ruleset := ll.ContainerLauncher, ll.ContainerRuleset
	args = ll.LauncherArgs(args)
	var mounts []json.RawMessage
	if raw, ok := top["mounts"]; ok {
		if err := json.Unmarshal(raw, &mounts); err != nil {
			return fmt.Errorf("%s: mounts: %w", config, err)
		}
	}
	for _, m := range []struct{ src, dst string }{{plan.launcher, launcher}, {rsFile, ruleset}} {
		raw, err := json.Marshal(map[string]any{"destination": m.dst, "type": "bind", "source": m.src, "options": []string{"bind", "ro"}})
		if err != nil {
			return err
		}
		mounts = append(mounts, raw)
	}
	if process["args"], err = json.Marshal(args); err != nil {
		return err
	}
	if top["process"], err = json.Marshal(process); err != nil {
		return err
	}
	if top["mounts"], err = json.Marshal(mounts); err != nil {
		return err
	}
	out, err := json.Marshal(top)
	if err != nil {
		return err
	}
	return fileio.Write(config, nil, func(w io.Writer) error {
		_, err := w.Write(out)
		return err
	})
}
