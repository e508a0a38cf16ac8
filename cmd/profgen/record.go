package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// TODO(record helper): replace with the real command.
func newRecordCmd() *cobra.Command {
	return &cobra.Command{Use: "record", RunE: func(*cobra.Command, []string) error { return errors.New("not implemented") }}
}
