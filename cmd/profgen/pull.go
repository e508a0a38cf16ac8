package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/profgen/profgen/artifact"
	"github.com/profgen/profgen/internal/fileio"
)

type pullParams struct {
	output    string
	plainHTTP bool
}

func newPullCmd() *cobra.Command {
	var p pullParams
	cmd := &cobra.Command{
		Use:   "pull [--plain-http] REF -o FILE",
		Short: "Pull a seccomp profile artifact from a registry into a file",
		Long: `pull fetches REF (REGISTRY/REPO:TAG or REGISTRY/REPO@sha256:...), a seccomp
profile artifact as 'profgen push', spoc push or KEP-6061 describe it, and
writes its profile, byte for byte, to FILE ("-": standard output). An
artifact whose config media type is not
application/vnd.cncf.seccomp-profile.config.v1+json (what CRI-O requires),
that has other than one application/json layer, or whose layer is not an
OCI seccomp profile is refused. FILE is written only once the whole
profile was fetched and checked.

A registry on a loopback address is spoken to over plain HTTP; any other
over HTTPS unless --plain-http.`,
		Example: `  profgen pull registry.example.com/profiles/nginx:v1 -o seccomp.json
  profgen pull localhost:5000/profiles/nginx@sha256:4d5e... -o -`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return fmt.Errorf("pull needs one REF, got %d argument(s)", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPull(cmd.Context(), cmd.OutOrStdout(), &p, args[0])
		},
	}
	f := cmd.Flags()
	f.StringVarP(&p.output, "output", "o", "", "write the profile to FILE (- for standard output)")
	f.BoolVar(&p.plainHTTP, "plain-http", false, "talk HTTP, not HTTPS, to a registry that is not on a loopback address")
	return cmd
}

// runPull writes the profile of ref to p.output; the file is created
// before the pull (so that an unwritable path fails first) and committed
// only once the profile was fetched and checked.
func runPull(ctx context.Context, stdout io.Writer, p *pullParams, ref string) error {
	if p.output == "" {
		return errors.New("pull needs -o FILE (- for standard output)")
	}
	out, err := fileio.Create(p.output, stdout)
	if err != nil {
		return err
	}
	defer out.Abort()
	data, err := artifact.Pull(ctx, ref, artifact.Options{PlainHTTP: p.plainHTTP})
	if err != nil {
		return err
	}
	if _, err := out.Write(data); err != nil {
		return err
	}
	return out.Commit()
}

// repoOf is ref without its tag or digest.
func repoOf(ref string) string {
	if i := strings.Index(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		ref = ref[:i]
	}
	return ref
}
