package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// option is one of the wrapper's own flags or annotations, with its help.
type option struct {
	name, help string
}

// wrapperFlags are the wrapper's own global flags, removed before the real
// runtime is called.
var wrapperFlags = []option{
	{"--profgen-runtime PATH", "the real OCI runtime (default: runc on the PATH, then in /usr/local/sbin, /usr/local/bin, /usr/sbin, /usr/bin, /sbin, /bin)"},
	{"--profgen-record-dir DIR", "where recordings of containers without the " + AnnotationRecord + " annotation go, as DIR/ID.json (default " + DefaultRecordDir + ")"},
}

// annotations are the annotations of config.json the wrapper reads.
var annotations = []option{
	{AnnotationRecord + "=PATH", "the file the container's recording goes to (an absolute path)"},
	{AnnotationImage + "=NAME", "the container's image, for the recording's metadata, when the engine's annotations do not name it"},
	{AnnotationLandlock + "=PATH", "run the container's process under this Landlock ruleset (emit --format landlock; paths of the container): the static launcher " + LandlockLauncher + ", beside profgen-runc, is bind-mounted at " + landlockDir + " and put in front of process.args; the container's seccomp profile moves into it, loaded after the ruleset, right before its execve"},
	{AnnotationReady + "=tcp:HOST:PORT|delay:D", "when the container is ready (HOST an IP address in the container's network; D from its start): the recording then counts the calls of its startup and serving phases, and has readyAtMs"},
	{AnnotationKeepSeccomp + "=true", "keep the engine's seccomp profile in force while recording (by default the container runs under a log-only copy of it): the calls it refuses are then missing from the recording"},
}

// wantsHelp reports whether the call asks for the runtime's help: -h or
// --help before any command, or the help command.
func (inv *invocation) wantsHelp() bool {
	if inv.command == "help" || inv.command == "h" {
		return true
	}
	return inv.command == "" && slices.ContainsFunc(inv.global, func(a string) bool { return a == "--help" || a == "-h" })
}

// writeHelp writes the wrapper's own help: what it is, its flags and the
// annotations it reads.
func writeHelp(w io.Writer) {
	fmt.Fprintf(w, "profgen-runc %s: an OCI runtime that records the containers it creates into profgen recordings\n", version)
	fmt.Fprintln(w, "(docs/containers.md). Every call goes to the real runtime, whose own help follows.")
	section := func(title string, opts []option) {
		fmt.Fprintf(w, "\n%s\n", title)
		for _, o := range opts {
			fmt.Fprintf(w, "   %-32s %s\n", o.name, o.help)
		}
	}
	section("PROFGEN-RUNC GLOBAL OPTIONS (before the command; not passed to the real runtime):", wrapperFlags)
	section("ANNOTATIONS (read from the bundle's config.json):", annotations)
	fmt.Fprintln(w, "\n"+strings.Repeat("-", 72))
}

// help prints the wrapper's help, then the real runtime's.
func (inv *invocation) help() int {
	writeHelp(os.Stdout)
	runtime, err := findRuntime(inv.runtime)
	if err != nil {
		inv.fail(err)
		return 0
	}
	inv.execRuntime(runtime)
	return 1
}
