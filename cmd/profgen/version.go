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
			arch, _ := abi.Native()
			fmt.Fprintf(cmd.OutOrStdout(), "profgen %s (%s, %s/%s, seccomp arch %s)\n",
				version, runtime.Version(), runtime.GOOS, runtime.GOARCH, arch)
			return nil
		},
	}
}
