package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/fileio"
	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/readers"
	"github.com/profgen/profgen/recording"
)

// AnnotationKeepSeccomp, set to "true", keeps the engine's seccomp profile
// in force while the container is recorded: the calls it refuses are then
// missing from the recording (a note says so). Without it the container is
// recorded under a log-only copy of that profile.
const AnnotationKeepSeccomp = "io.profgen.keep-seccomp"

// keepSeccomp reads the io.profgen.keep-seccomp annotation.
func keepSeccomp(ann map[string]string) (bool, error) {
	switch v, ok := ann[AnnotationKeepSeccomp]; {
	case !ok || v == "false":
		return false, nil
	case v == "true":
		return true, nil
	default:
		return false, fmt.Errorf("annotation %s=%s: want true or false", AnnotationKeepSeccomp, v)
	}
}

// refuses reports whether an OCI action refuses a call (anything but allow
// and log).
func refuses(a specs.LinuxSeccompAction) bool {
	return a != specs.ActAllow && a != specs.ActLog
}

// logOnly returns the profile the container is recorded under instead of
// the engine's p: nothing p refuses is refused. Its default action is p's
// when that allows or logs, SCMP_ACT_LOG otherwise; p's entries that allow
// or log are kept (unless they repeat the new default, which runc would
// refuse or skip), those that refuse (errno, kill, trap, trace, notify)
// are dropped, so that the calls they match get the default, which allows
// them. The filter stays in place (the workload runs in seccomp mode 2, as
// under its engine), with its architectures and flags. It reports whether
// anything changed.
func logOnly(p *specs.LinuxSeccomp) (*specs.LinuxSeccomp, bool) {
	out := *p
	out.Syscalls = nil
	changed := false
	if refuses(p.DefaultAction) {
		out.DefaultAction, changed = specs.ActLog, true
	}
	out.DefaultErrnoRet = nil
	for _, e := range p.Syscalls {
		if refuses(e.Action) || e.Action == out.DefaultAction {
			changed = changed || refuses(e.Action)
			continue
		}
		e.ErrnoRet = nil
		out.Syscalls = append(out.Syscalls, e)
	}
	// No notify action is left: runc would refuse a listener for none.
	if p.ListenerPath != "" || p.ListenerMetadata != "" {
		out.ListenerPath, out.ListenerMetadata = "", ""
		changed = true
	}
	return &out, changed
}

// rewriteSeccomp replaces linux.seccomp in the bundle's config.json (path,
// whose content is data) by p, leaving every other byte of meaning alone
// (fields are kept as they were, including those this build does not
// know). The file is replaced atomically.
func rewriteSeccomp(path string, data []byte, p *specs.LinuxSeccomp) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	var linux map[string]json.RawMessage
	if err := json.Unmarshal(top["linux"], &linux); err != nil {
		return fmt.Errorf("%s: linux: %w", path, err)
	}
	var err error
	if linux["seccomp"], err = json.Marshal(p); err != nil {
		return err
	}
	if top["linux"], err = json.Marshal(linux); err != nil {
		return err
	}
	out, err := json.Marshal(top)
	if err != nil {
		return err
	}
	if err := fileio.Write(path, nil, func(w io.Writer) error {
		_, err := w.Write(out)
		return err
	}); err != nil {
		return fmt.Errorf("rewrite the container's seccomp profile: %w", err)
	}
	return nil
}

// rawSeccomp returns linux.seccomp of a config.json as it is written.
func rawSeccomp(data []byte) (json.RawMessage, error) {
	var doc struct {
		Linux struct {
			Seccomp json.RawMessage `json:"seccomp"`
		} `json:"linux"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	return doc.Linux.Seccomp, nil
}

// judge returns the evidence of which recorded calls of rec the engine's
// profile raw (an OCI linux.seccomp document) would have refused, and with
// what action. The profile is read with readers.ParseOCI, as runc reads it,
// and each recorded call (each argument shape where arguments were
// captured) goes through learn.Profile.Verdict. Where the profile decides a
// syscall by argument values the recording did not capture (or captured
// only some bits of), the refusal is marked maybe, never left out.
func judge(rec *recording.Recording, raw json.RawMessage, enforced bool) *recording.EngineProfile {
	ep := &recording.EngineProfile{Enforced: enforced}
	var doc specs.LinuxSeccomp
	if err := json.Unmarshal(raw, &doc); err != nil {
		ep.DefaultAction, ep.Unjudged = "unknown", err.Error()
		return ep
	}
	ep.DefaultAction = string(doc.DefaultAction)
	if doc.DefaultAction == specs.ActErrno {
		ep.DefaultErrno = int(unix.EPERM) // runc's default
		if doc.DefaultErrnoRet != nil {
			ep.DefaultErrno = int(*doc.DefaultErrnoRet)
		}
	}
	if enforced {
		// Calls it refused never reached the recorder: nothing to judge.
		return ep
	}
	prof, err := readers.ParseOCI(raw)
	// The model has one action per syscall; podman's default, for one,
	// gives some syscalls entries of different actions (allow, and errno
	// by argument or as it resolved its capability conditions). Those
	// are judged apart (maybe refused), the rest as usual.
	mixed := mixedActions(&doc)
	if err != nil && len(mixed) > 0 {
		rest := doc
		rest.Syscalls = nil
		for _, e := range doc.Syscalls {
			e.Names = slices.DeleteFunc(slices.Clone(e.Names), func(n string) bool { return mixed[n] != nil })
			if len(e.Names) > 0 {
				rest.Syscalls = append(rest.Syscalls, e)
			}
		}
		if data, merr := json.Marshal(&rest); merr == nil {
			prof, err = readers.ParseOCI(data)
		}
	}
	if err != nil {
		ep.Unjudged = "the engine's profile cannot be read: " + err.Error()
		return ep
	}
	refusal := func(name string, a learn.Action, values []recording.Hex, maybe bool, count uint64) recording.Refusal {
		f := recording.Refusal{Name: name, Action: ociActionName(a), Values: values, Maybe: maybe, Count: count}
		if a.Kind == learn.ActErrno {
			f.Errno, f.ErrnoName = int(a.Errno), unix.ErrnoName(syscall.Errno(a.Errno))
		}
		return f
	}
	for _, s := range rec.Syscalls {
		if s.Count == 0 {
			continue
		}
		if acts := mixed[s.Name]; acts != nil {
			for _, a := range acts {
				if refusing(a) {
					ep.Refused = append(ep.Refused, refusal(s.Name, a, nil, true, s.Count))
				}
			}
			continue
		}
		entry := prof.Lookup(s.Name)
		if entry == nil || entry.Unconditional() {
			if a := prof.Verdict(s.Name, [6]uint64{}); refusing(a) {
				ep.Refused = append(ep.Refused, refusal(s.Name, a, nil, false, s.Count))
			}
			continue
		}
		if !refusing(entry.Action) && !refusing(prof.DefaultAction) {
			continue
		}
		if decided(entry, &s) {
			for i, ev := range s.Events() {
				if a := prof.Verdict(s.Name, ev.Args); refusing(a) {
					ep.Refused = append(ep.Refused, refusal(s.Name, a, s.Shapes[i].Values, false, ev.Count))
				}
			}
			continue
		}
		// The verdict depends on what was not captured: each refusing
		// side may have applied.
		for _, a := range []learn.Action{entry.Action, prof.DefaultAction} {
			if refusing(a) {
				ep.Refused = append(ep.Refused, refusal(s.Name, a, nil, true, s.Count))
			}
		}
	}
	return ep
}

// mixedActions returns the syscalls that entries of doc give different
// actions, each with the actions it may get: those of its entries, and the
// default unless one of its entries applies whatever the arguments.
func mixedActions(doc *specs.LinuxSeccomp) map[string][]learn.Action {
	type seen struct {
		acts          []learn.Action
		unconditional bool
	}
	by := map[string]*seen{}
	for _, e := range doc.Syscalls {
		a, err := modelAction(e.Action, e.ErrnoRet)
		if err != nil {
			continue
		}
		for _, n := range e.Names {
			s := by[n]
			if s == nil {
				s = &seen{}
				by[n] = s
			}
			if !slices.Contains(s.acts, a) {
				s.acts = append(s.acts, a)
			}
			s.unconditional = s.unconditional || len(e.Args) == 0
		}
	}
	def, err := modelAction(doc.DefaultAction, doc.DefaultErrnoRet)
	out := map[string][]learn.Action{}
	for n, s := range by {
		if len(s.acts) < 2 {
			continue
		}
		if !s.unconditional && err == nil && !slices.Contains(s.acts, def) {
			s.acts = append(s.acts, def)
		}
		out[n] = s.acts
	}
	return out
}

// modelAction reads an OCI action as readers.ParseOCI does, through a
// one-entry profile.
func modelAction(a specs.LinuxSeccompAction, errnoRet *uint) (learn.Action, error) {
	data, err := json.Marshal(&specs.LinuxSeccomp{DefaultAction: a, DefaultErrnoRet: errnoRet})
	if err != nil {
		return learn.Action{}, err
	}
	p, err := readers.ParseOCI(data)
	if err != nil {
		return learn.Action{}, err
	}
	return p.DefaultAction, nil
}

// refusing reports whether the model's action refuses a call.
func refusing(a learn.Action) bool { return a.Kind != learn.ActAllow && a.Kind != learn.ActLog }

// decided reports whether the captured argument values of s decide every
// rule of entry: s has argument shapes, and each condition tests a captured
// argument and only bits that were captured (a masked comparison within
// the capture mask, or any comparison of a fully captured argument).
func decided(entry *learn.Syscall, s *recording.Syscall) bool {
	if len(s.Args) == 0 || len(s.Shapes) == 0 {
		return false
	}
	for _, r := range entry.Rules {
		for idx, m := range r {
			if m == nil {
				continue
			}
			captured := uint64(0)
			for _, a := range s.Args {
				if a.Index == idx {
					captured = uint64(a.Mask)
				}
			}
			op, operands, err := learn.Operands(m)
			switch {
			case err != nil:
				return false
			case captured == ^uint64(0):
			case op == learn.OpMaskedEqual && operands[0]&^captured == 0:
			default:
				return false
			}
		}
	}
	return true
}

// ociActionName names a model action as the runtime-spec does.
func ociActionName(a learn.Action) string {
	switch a.Kind {
	case learn.ActAllow:
		return string(specs.ActAllow)
	case learn.ActLog:
		return string(specs.ActLog)
	case learn.ActErrno:
		return string(specs.ActErrno)
	case learn.ActTrap:
		return string(specs.ActTrap)
	case learn.ActKillThread:
		return string(specs.ActKillThread)
	case learn.ActKillProcess:
		return string(specs.ActKillProcess)
	}
	return a.String()
}

// engineNotes are the recording's notes about the engine's profile.
func engineNotes(ep *recording.EngineProfile) []string {
	switch {
	case ep == nil:
		return nil
	case ep.Enforced:
		return []string{fmt.Sprintf("the container ran under its engine's seccomp profile (default action %s), kept by %s=true: "+
			"calls it refused never reached the recorder and are missing from this recording", ep.DefaultAction, AnnotationKeepSeccomp)}
	case ep.Unjudged != "":
		return []string{fmt.Sprintf("the container was recorded under a log-only copy of its engine's seccomp profile (default action %s); "+
			"which recorded calls that profile would have refused is unknown: %s", ep.DefaultAction, ep.Unjudged)}
	case len(ep.Refused) > 0:
		var names []string
		for _, f := range ep.Refused {
			if len(names) == 0 || names[len(names)-1] != f.Name {
				names = append(names, f.Name)
			}
		}
		return []string{fmt.Sprintf("the container was recorded under a log-only copy of its engine's seccomp profile (default action %s), "+
			"which would have refused %d of the recorded syscalls (engineProfile.refused): %s", ep.DefaultAction, len(names), strings.Join(names, " "))}
	}
	return nil
}

// prepareSeccomp handles the engine's seccomp profile of the bundle's
// config.json (path, content data, spec decoded): it returns the profile
// as written (nil when there is none), for the recorder to judge the
// recorded calls by, and whether it stays in force; unless kept, it
// rewrites config.json with the log-only copy before the container is
// created.
func prepareSeccomp(path string, data []byte, spec *specs.Spec) (json.RawMessage, bool, error) {
	if spec.Linux == nil || spec.Linux.Seccomp == nil {
		return nil, false, nil
	}
	keep, err := keepSeccomp(spec.Annotations)
	if err != nil {
		return nil, false, err
	}
	raw, err := rawSeccomp(data)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", path, err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		return nil, false, fmt.Errorf("%s: linux.seccomp: %w", path, err)
	}
	raw = compact.Bytes()
	if keep {
		return raw, true, nil
	}
	p, changed := logOnly(spec.Linux.Seccomp)
	if changed {
		if err := rewriteSeccomp(path, data, p); err != nil {
			return nil, false, err
		}
	}
	return raw, false, nil
}
