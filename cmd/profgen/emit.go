package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// TODO(lead): replace with the real command.
func newEmitCmd() *cobra.Command {
	return &cobra.Command{Use: "emit", RunE: func(*cobra.Command, []string) error { return errors.New("not implemented") }}
}
