package emit

import (
	"fmt"
	"io"
	"strings"

	"github.com/profgen/profgen/landlock"
)

// LandlockFormat is an output format of a Landlock ruleset, beside the
// seccomp formats of Formats.
type LandlockFormat struct {
	// Name is what `emit --format` takes.
	Name string
	// Help is a one-line description for --help.
	Help string
	// Write writes r in the format.
	Write func(w io.Writer, r *landlock.Ruleset, opts Options) error
}

// LandlockFormats is the table of Landlock ruleset formats.
var LandlockFormats = []LandlockFormat{
	{Name: "landlock", Help: "Landlock ruleset in Landlock's configuration format (landlockconfig JSON): profgen exec --landlock", Write: WriteLandlock},
}

// LookupLandlockFormat returns the Landlock format called name.
func LookupLandlockFormat(name string) (LandlockFormat, bool) {
	for _, f := range LandlockFormats {
		if f.Name == name {
			return f, true
		}
	}
	return LandlockFormat{}, false
}

// WriteLandlock writes r in Landlock's configuration format
// (landlock-lsm/landlockconfig's JSON schema). The format has no comments:
// why each generalised rule was made and r's notes go to opts.Warn.
func WriteLandlock(w io.Writer, r *landlock.Ruleset, opts Options) error {
	if opts.Incomplete != "" {
		return fmt.Errorf("format landlock cannot be marked incomplete")
	}
	data, err := r.Config()
	if err != nil {
		return err
	}
	if opts.Warn != nil {
		seen := map[string]bool{}
		for _, rule := range r.Rules {
			if rule.Why != "" && !seen[rule.Why] {
				seen[rule.Why] = true
				opts.Warn("landlock: " + rule.Why)
			}
		}
		for _, n := range r.Notes {
			opts.Warn("landlock: " + n)
		}
	}
	_, err = w.Write(data)
	return err
}

// LandlockFormatHelp is the list of Landlock formats for a command's long
// help, one per line, indented as FormatHelp's.
func LandlockFormatHelp() string {
	var b strings.Builder
	for _, f := range LandlockFormats {
		fmt.Fprintf(&b, "  %s  %s\n", f.Name, f.Help)
	}
	return b.String()
}

// LandlockFormatNames lists the names of LandlockFormats.
func LandlockFormatNames() []string {
	names := make([]string, len(LandlockFormats))
	for i, f := range LandlockFormats {
		names[i] = f.Name
	}
	return names
}
