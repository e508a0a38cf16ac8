package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/profgen/profgen/internal/abi"
)

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print profgen's version",
		Example: "  profgen version",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), versionLine())
			return err
		},
	}
}

// versionLine is what `profgen version` and `profgen --version` print.
func versionLine() string {
	arch, _ := abi.Native()
	return fmt.Sprintf("profgen %s (%s, %s/%s, seccomp arch %s)",
		version, runtime.Version(), runtime.GOOS, runtime.GOARCH, arch)
}
