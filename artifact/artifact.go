package artifact

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
	rspec "github.com/opencontainers/runtime-spec/specs-go"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/memory"
	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
	"oras.land/oras-go/v2/registry/remote/retry"

	"github.com/profgen/profgen/readers"
)

const (
	// MediaType is the artifactType and the config media type of a
	// seccomp profile artifact (KEP-6061; SPO's MediaTypeSeccompProfile;
	// the config media type CRI-O requires on pull).
	MediaType = "application/vnd.cncf.seccomp-profile.config.v1+json"
	// LayerMediaType is the media type of the artifact's one layer, the
	// profile's JSON.
	LayerMediaType = "application/json"
	// LayerTitle is the layer's org.opencontainers.image.title.
	LayerTitle = "profile.json"
	// MaxProfileSize is the largest profile Push sends and Pull accepts:
	// the size container runtimes accept by default (1 MiB).
	MaxProfileSize = 1 << 20
	// maxManifestSize bounds the manifest Pull reads.
	maxManifestSize = 4 << 20
	// created is the manifest's org.opencontainers.image.created: fixed,
	// so that the same profile always makes the same manifest digest.
	created = "1970-01-01T00:00:00Z"
)

// emptyConfig is the config blob: the profile is the layer, the config
// only carries the media type.
var emptyConfig = []byte("{}")

// Options configure Push and Pull.
type Options struct {
	// PlainHTTP talks HTTP rather than HTTPS to the registry. It is
	// implied for a registry on a loopback address (localhost, 127.0.0.0/8,
	// ::1), never for another.
	PlainHTTP bool
}

// Check returns nil when data is what an artifact carries: one OCI
// runtime-spec seccomp profile (LinuxSeccomp) with a defaultAction,
// decoded strictly (no unknown field, nothing after it), that profgen can
// read (readers.ParseOCI). A profgen recording (a "version" and no
// "defaultAction") is named as one.
func Check(data []byte) error {
	if len(data) > MaxProfileSize {
		return fmt.Errorf("%d bytes, more than the %d container runtimes accept", len(data), MaxProfileSize)
	}
	var probe map[string]json.RawMessage
	if json.Unmarshal(data, &probe) == nil {
		_, isProfile := probe["defaultAction"]
		_, version := probe["version"]
		if version && !isProfile {
			return errors.New("a profgen recording, not an OCI seccomp profile (write one with: profgen emit --format oci)")
		}
		if _, ok := probe[readers.IncompleteField]; ok {
			return fmt.Errorf("learned from recordings that lost events (%q): record again rather than ship it", readers.IncompleteField)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var doc rspec.LinuxSeccomp
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("not an OCI runtime-spec seccomp profile: %w", err)
	}
	if dec.More() {
		return errors.New("not an OCI runtime-spec seccomp profile: data after the profile")
	}
	if doc.DefaultAction == "" {
		return errors.New("not an OCI runtime-spec seccomp profile: no defaultAction")
	}
	if _, err := readers.ParseOCI(data); err != nil {
		return err
	}
	return nil
}

// Push sends profile, which must pass Check, to ref (REGISTRY/REPO:TAG)
// as a seccomp profile artifact, and returns the manifest's descriptor.
func Push(ctx context.Context, profile []byte, ref string, opts Options) (specs.Descriptor, error) {
	r, err := parseRef(ref)
	if err != nil {
		return specs.Descriptor{}, err
	}
	if r.Reference == "" || r.ValidateReferenceAsTag() != nil {
		return specs.Descriptor{}, fmt.Errorf("reference %q: push needs a tag (REGISTRY/REPO:TAG)", ref)
	}
	if err := Check(profile); err != nil {
		return specs.Descriptor{}, err
	}
	store := memory.New()
	config := content.NewDescriptorFromBytes(MediaType, emptyConfig)
	layer := content.NewDescriptorFromBytes(LayerMediaType, profile)
	layer.Annotations = map[string]string{specs.AnnotationTitle: LayerTitle}
	for _, b := range []struct {
		d    specs.Descriptor
		data []byte
	}{{config, emptyConfig}, {layer, profile}} {
		if err := store.Push(ctx, b.d, bytes.NewReader(b.data)); err != nil {
			return specs.Descriptor{}, fmt.Errorf("pack: %w", err)
		}
	}
	manifest, err := oras.PackManifest(ctx, store, oras.PackManifestVersion1_1, MediaType, oras.PackManifestOptions{
		Layers:              []specs.Descriptor{layer},
		ConfigDescriptor:    &config,
		ManifestAnnotations: map[string]string{specs.AnnotationCreated: created},
	})
	if err != nil {
		return specs.Descriptor{}, fmt.Errorf("pack: %w", err)
	}
	if err := store.Tag(ctx, manifest, r.Reference); err != nil {
		return specs.Descriptor{}, fmt.Errorf("pack: %w", err)
	}
	repo, err := repository(r, opts)
	if err != nil {
		return specs.Descriptor{}, err
	}
	d, err := oras.Copy(ctx, store, r.Reference, repo, r.Reference, oras.DefaultCopyOptions)
	if err != nil {
		return specs.Descriptor{}, fmt.Errorf("push %s: %w", ref, oneLine(err))
	}
	return d, nil
}

// Pull fetches the seccomp profile artifact ref (REGISTRY/REPO:TAG or
// REGISTRY/REPO@DIGEST) and returns the profile's bytes. It refuses a
// manifest that is not an OCI image manifest with MediaType as its config
// media type (what CRI-O requires) and one layer, a layer over
// MaxProfileSize, and a profile that fails Check.
func Pull(ctx context.Context, ref string, opts Options) ([]byte, error) {
	r, err := parseRef(ref)
	if err != nil {
		return nil, err
	}
	if r.Reference == "" {
		return nil, fmt.Errorf("reference %q: no tag or digest (REGISTRY/REPO:TAG or REGISTRY/REPO@sha256:...)", ref)
	}
	repo, err := repository(r, opts)
	if err != nil {
		return nil, err
	}
	desc, data, err := oras.FetchBytes(ctx, repo, r.Reference, oras.FetchBytesOptions{MaxBytes: maxManifestSize})
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", ref, oneLine(err))
	}
	layer, err := profileLayer(desc, data)
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", ref, err)
	}
	profile, err := content.FetchAll(ctx, repo.Blobs(), layer)
	if err != nil {
		return nil, fmt.Errorf("pull %s: layer %s: %w", ref, layer.Digest, oneLine(err))
	}
	if err := Check(profile); err != nil {
		return nil, fmt.Errorf("pull %s: layer %s: %w", ref, layer.Digest, err)
	}
	return profile, nil
}

// profileLayer checks the manifest of a seccomp profile artifact and
// returns its layer's descriptor.
func profileLayer(desc specs.Descriptor, data []byte) (specs.Descriptor, error) {
	if desc.MediaType != specs.MediaTypeImageManifest {
		return specs.Descriptor{}, fmt.Errorf("manifest media type %q, want %q", desc.MediaType, specs.MediaTypeImageManifest)
	}
	var m specs.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return specs.Descriptor{}, fmt.Errorf("manifest: %w", err)
	}
	if m.Config.MediaType != MediaType {
		return specs.Descriptor{}, fmt.Errorf("config media type %q: not a seccomp profile artifact (want %q)", m.Config.MediaType, MediaType)
	}
	if len(m.Layers) != 1 {
		return specs.Descriptor{}, fmt.Errorf("%d layers, want the one holding the profile", len(m.Layers))
	}
	l := m.Layers[0]
	if l.MediaType != LayerMediaType {
		return specs.Descriptor{}, fmt.Errorf("layer media type %q, want %q", l.MediaType, LayerMediaType)
	}
	if l.Size < 0 || l.Size > MaxProfileSize {
		return specs.Descriptor{}, fmt.Errorf("layer of %d bytes, more than the %d container runtimes accept", l.Size, MaxProfileSize)
	}
	if err := l.Digest.Validate(); err != nil || l.Digest.Algorithm() != digest.SHA256 && l.Digest.Algorithm() != digest.SHA512 {
		return specs.Descriptor{}, fmt.Errorf("layer digest %q: not a sha256 or sha512 digest", l.Digest)
	}
	return l, nil
}

// parseRef parses an artifact reference.
func parseRef(ref string) (registry.Reference, error) {
	r, err := registry.ParseReference(ref)
	if err != nil {
		return registry.Reference{}, fmt.Errorf("reference %q: %w (want REGISTRY/REPO:TAG)", ref, oneLine(err))
	}
	return r, nil
}

// repository is the remote repository of r, with the credentials docker
// and podman logins keep (~/.docker/config.json) when there are any.
func repository(r registry.Reference, opts Options) (*remote.Repository, error) {
	repo := &remote.Repository{Reference: r, PlainHTTP: opts.PlainHTTP || Loopback(r.Registry)}
	client := &auth.Client{Client: retry.DefaultClient, Cache: auth.NewCache()}
	if store, err := credentials.NewStoreFromDocker(credentials.StoreOptions{}); err == nil {
		client.Credential = credentials.Credential(store)
	}
	repo.Client = client
	return repo, nil
}

// Loopback reports whether the registry host (HOST or HOST:PORT) is a
// loopback address or localhost.
func Loopback(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// oneLine keeps an error on one line (registries' error bodies may hold
// newlines).
func oneLine(err error) error {
	s := err.Error()
	if !strings.ContainsAny(s, "\r\n") {
		return err
	}
	return flat{err, strings.Join(strings.Fields(s), " ")}
}

// flat is an error shown on one line that still unwraps to its cause.
type flat struct {
	err error
	s   string
}

func (f flat) Error() string { return f.s }
func (f flat) Unwrap() error { return f.err }
