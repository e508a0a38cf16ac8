package main

import (
	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "profgen",
		Short: "Learn a minimal seccomp profile by watching a program run",
		Long: `profgen records the system calls a program makes (with eBPF, or with a
seccomp SCMP_ACT_LOG filter), learns a minimal allowlist from them, writes it
as an OCI seccomp profile, and proves it by replaying the workload under it.`,
		Example: `  profgen record -o rec.json -- ./server --port 8080
  profgen emit --format oci -o seccomp.json rec.json
  docker run --security-opt seccomp=seccomp.json myimage`,
		SilenceUsage:  true,
		SilenceErrors: true,
		// --version prints what `profgen version` prints.
		Version: version,
	}
	root.SetVersionTemplate(versionLine() + "\n")
	root.AddCommand(
		newVersionCmd(),
		newRecordCmd(),
		newEmitCmd(),
		newReplayCmd(),
		newMergeCmd(),
		newDiffCmd(),
		newExplainCmd(),
		newDumpCmd(),
		newMonitorCmd(),
		newPushCmd(),
		newPullCmd(),
		newExecCmd(),
		newReachableCmd(),
	)
	return root
}
