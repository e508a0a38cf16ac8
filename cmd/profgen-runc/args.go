package main

import (
	"errors"
	"fmt"
	"strings"
)

// Global flags of runc and crun that take a value (as "--flag value" or
// "--flag=value"); the others are booleans.
var globalValueFlags = map[string]bool{
	"log": true, "log-format": true, "log-level": true, "root": true, "criu": true,
	"rootless": true, "cgroup-manager": true,
}

// create's (and run's) flags that take a value.
var createValueFlags = map[string]bool{
	"bundle": true, "b": true, "console-socket": true, "pid-file": true,
	"preserve-fds": true, "pidfd-socket": true,
}

// invocation is one call of the wrapper, split up.
type invocation struct {
	// global holds the global flags for the real runtime, ours removed.
	global []string
	// command is the subcommand ("create", "delete", ...), or "" when
	// there is none (--version, --help).
	command string
	// rest is what follows the subcommand, unchanged.
	rest []string

	// runtime is --profgen-runtime; recordDir is --profgen-record-dir.
	runtime, recordDir string
	// logPath and logFormat are the runtime's --log and --log-format.
	logPath, logFormat string
}

// flagName returns the name of a flag argument ("--root=x" -> "root", true)
// and its inline value.
func flagName(arg string) (name, value string, inline, ok bool) {
	if !strings.HasPrefix(arg, "-") || arg == "-" || arg == "--" {
		return "", "", false, false
	}
	name = strings.TrimLeft(arg, "-")
	name, value, inline = strings.Cut(name, "=")
	return name, value, inline, true
}

// parseArgs splits the wrapper's arguments (without argv[0]).
func parseArgs(args []string) (*invocation, error) {
	inv := &invocation{}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		name, value, inline, ok := flagName(arg)
		if !ok {
			inv.command = arg
			inv.rest = append([]string(nil), args[i+1:]...)
			return inv, nil
		}
		if name == "profgen-runtime" || name == "profgen-record-dir" {
			if !inline {
				if i+1 >= len(args) {
					return nil, fmt.Errorf("flag --%s needs a value", name)
				}
				i++
				value = args[i]
			}
			if value == "" {
				return nil, fmt.Errorf("flag --%s needs a non-empty value", name)
			}
			if name == "profgen-runtime" {
				inv.runtime = value
			} else {
				inv.recordDir = value
			}
			continue
		}
		inv.global = append(inv.global, arg)
		if globalValueFlags[name] && !inline {
			if i+1 >= len(args) {
				return nil, fmt.Errorf("flag --%s needs a value", name)
			}
			i++
			value = args[i]
			inv.global = append(inv.global, value)
		}
		switch name {
		case "log":
			inv.logPath = value
		case "log-format":
			inv.logFormat = value
		}
	}
	return inv, nil
}

// createArgs is what the wrapper needs of create's (or run's) arguments.
type createArgs struct {
	bundle  string // "" means the working directory
	pidFile string
	id      string
}

// parseCreate reads the bundle, pid file and container id from the
// arguments that follow create or run.
func parseCreate(rest []string) (*createArgs, error) {
	c := &createArgs{}
	var positional []string
	for i := 0; i < len(rest); i++ {
		name, value, inline, ok := flagName(rest[i])
		if !ok {
			if rest[i] == "--" {
				positional = append(positional, rest[i+1:]...)
				break
			}
			positional = append(positional, rest[i])
			continue
		}
		if createValueFlags[name] && !inline {
			if i+1 >= len(rest) {
				return nil, fmt.Errorf("flag --%s needs a value", name)
			}
			i++
			value = rest[i]
		}
		switch name {
		case "bundle", "b":
			c.bundle = value
		case "pid-file":
			c.pidFile = value
		}
	}
	if len(positional) == 0 {
		return nil, errors.New("no container id given")
	}
	c.id = positional[0]
	return c, nil
}
