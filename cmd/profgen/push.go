package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/profgen/profgen/artifact"
	"github.com/profgen/profgen/internal/fileio"
)

type pushParams struct {
	plainHTTP bool
}

func newPushCmd() *cobra.Command {
	var p pushParams
	cmd := &cobra.Command{
		Use:   "push [--plain-http] PROFILE REGISTRY/REPO:TAG",
		Short: "Push an OCI seccomp profile to a registry as a seccomp profile artifact",
		Long: `push sends PROFILE, an OCI runtime-spec seccomp profile (what
'profgen emit --format oci' writes), to an OCI registry as the artifact
Kubernetes' KEP-6061 describes and CRI-O and the Security Profiles
Operator (spoc pull) read: an OCI image manifest whose artifactType and
config media type are application/vnd.cncf.seccomp-profile.config.v1+json,
its config {}, and one layer, the profile's bytes unchanged
(application/json, titled profile.json). A recording, a profile with
unknown fields or one larger than 1 MiB is refused.

A registry on a loopback address (localhost, 127.0.0.0/8, [::1]) is spoken
to over plain HTTP; any other over HTTPS unless --plain-http. Credentials
are those of 'docker login' or 'oras login' (~/.docker/config.json).
It prints the reference by digest.`,
		Example: `  profgen emit --format oci -o seccomp.json rec.json
  profgen push seccomp.json registry.example.com/profiles/nginx:v1
  profgen push seccomp.json localhost:5000/profiles/nginx:v1`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return fmt.Errorf("push needs PROFILE and REGISTRY/REPO:TAG, got %d argument(s)", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPush(cmd, cmd.OutOrStdout(), &p, args[0], args[1])
		},
	}
	cmd.Flags().BoolVar(&p.plainHTTP, "plain-http", false, "talk HTTP, not HTTPS, to a registry that is not on a loopback address")
	return cmd
}

func runPush(cmd *cobra.Command, stdout io.Writer, p *pushParams, path, ref string) error {
	data, err := fileio.ReadFile(path, artifact.MaxProfileSize+1, os.Stdin)
	if err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	if err := artifact.Check(data); err != nil {
		return fmt.Errorf("profile %s: %w", path, err)
	}
	d, err := artifact.Push(cmd.Context(), data, ref, artifact.Options{PlainHTTP: p.plainHTTP})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s@%s\n", repoOf(ref), d.Digest)
	return nil
}
