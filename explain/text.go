package explain

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteJSON writes r as one indented JSON object.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if r.Kind == KindLandlock {
		return enc.Encode(struct {
			File string `json:"file"`
			Kind string `json:"kind"`
			*LandlockReport
		}{r.File, r.Kind, r.Landlock})
	}
	if r.Kind == KindRecording {
		return enc.Encode(struct {
			File string `json:"file"`
			Kind string `json:"kind"`
			*RecordingReport
		}{r.File, r.Kind, r.Recording})
	}
	return enc.Encode(r)
}

// WriteText writes r for a person on a terminal.
func WriteText(w io.Writer, r *Report) error {
	if r.Kind == KindLandlock {
		return writeLandlockText(w, r.File, r.Landlock)
	}
	if r.Kind == KindRecording {
		return writeRecordingText(w, r.File, r.Recording)
	}
	var b strings.Builder
	kind := "OCI profile"
	switch r.Kind {
	case KindBPF:
		kind = "raw BPF filter"
	case KindK8s:
		kind = "SeccompProfile (k8s)"
	case KindGo:
		kind = "Go source (emit --format go): its embedded filter"
	}
	if r.Kind != KindBPF && r.Kind != KindGo {
		fmt.Fprintf(&b, "%s: %s, compiled to %d instructions\n", r.File, kind, r.Instructions)
	} else {
		fmt.Fprintf(&b, "%s: %s, %d instructions\n", r.File, kind, r.Instructions)
	}
	fmt.Fprintf(&b, "default action:   %s\n", r.DefaultAction)
	fmt.Fprintf(&b, "architectures:    %s\n", orNone(strings.Join(r.Architectures, " ")))
	if r.JudgedFor != "" {
		fmt.Fprintf(&b, "judged for:       %s (the profile's architecture, not this machine's)\n", r.JudgedFor)
		fmt.Fprintf(&b, "attack surface:   %d of %d %s syscalls allowed (Docker's default profile: compared on this machine's architecture only)\n", r.AllowedCount, r.NativeCount, r.JudgedFor)
	} else {
		fmt.Fprintf(&b, "attack surface:   %d of %d native syscalls allowed (Docker's default profile: %d)\n", r.AllowedCount, r.NativeCount, r.DockerDefaultAllowed)
	}
	fmt.Fprintf(&b, "allowed (%d):\n", len(r.Allowed))
	wrap(&b, r.Allowed)
	fmt.Fprintf(&b, "conditional (%d):\n", len(r.Conditional))
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	for _, c := range r.Conditional {
		detail := "reads argument " + joinInts(c.Args)
		switch {
		case c.Text != "":
			detail = c.Text
		case len(c.Rules) > 0:
			detail = strings.Join(c.Rules, " OR ")
		}
		fmt.Fprintf(tw, "  %s\t%s\n", c.Name, detail)
	}
	tw.Flush()
	if len(r.Other) > 0 {
		fmt.Fprintf(&b, "other actions (%d):\n", len(r.Other))
		tw = tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		for _, o := range r.Other {
			fmt.Fprintf(tw, "  %s\t%s\n", o.Name, o.Action)
		}
		tw.Flush()
	}
	fmt.Fprintf(&b, "dangerous allowed (%d):\n", len(r.DangerousAllowed))
	tw = tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	for _, d := range r.DangerousAllowed {
		name := d.Name
		if d.Conditional {
			name += " (conditional)"
		}
		fmt.Fprintf(tw, "  %s\t%s\n", name, d.Why)
	}
	tw.Flush()
	fmt.Fprintf(&b, "warnings (%d):\n", len(r.Warnings))
	for _, s := range r.Warnings {
		fmt.Fprintf(&b, "  - %s\n", s)
	}
	writeReachable(&b, r)
	for _, s := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", s)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// wrap writes names indented, about 76 columns a line.
func wrap(b *strings.Builder, names []string) {
	line := " "
	for _, n := range names {
		if len(line)+1+len(n) > 78 {
			b.WriteString(line + "\n")
			line = " "
		}
		line += " " + n
	}
	if line != " " {
		b.WriteString(line + "\n")
	}
}
