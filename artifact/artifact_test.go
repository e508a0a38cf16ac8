package artifact

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/memory"
	"oras.land/oras-go/v2/registry"

	"github.com/profgen/profgen/internal/testenv"
)

// profile is an OCI seccomp profile written the way no encoder of ours
// would (indentation, key order, no final newline), so that a round trip
// that re-encoded it would show.
const profile = `{
   "defaultAction": "SCMP_ACT_ERRNO",  "defaultErrnoRet": 1,
   "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
   "syscalls": [ {"names": ["read","write","exit_group"], "action": "SCMP_ACT_ALLOW"} ]
}`

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// TestPushPull pushes a profile to a docker-registry on loopback, reads
// the manifest back raw and checks the media types KEP-6061's consumers
// expect (CRI-O requires the config media type; spoc reads the one
// application/json layer), then pulls it back byte for byte, by tag and by
// digest.
func TestPushPull(t *testing.T) {
	reg := testenv.StartRegistry(t)
	ctx := context.Background()
	ref := reg + "/profiles/demo:v1"
	d, err := Push(ctx, []byte(profile), ref, Options{})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", "http://"+reg+"/v2/profiles/demo/manifests/v1", nil)
	req.Header.Set("Accept", specs.MediaTypeImageManifest)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw bytes.Buffer
	raw.ReadFrom(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET manifest: %s\n%s", resp.Status, raw.String())
	}
	if got := sha(raw.Bytes()); got != string(d.Digest) {
		t.Errorf("manifest digest %s, Push returned %s", got, d.Digest)
	}
	var m struct {
		SchemaVersion int                `json:"schemaVersion"`
		MediaType     string             `json:"mediaType"`
		ArtifactType  string             `json:"artifactType"`
		Config        specs.Descriptor   `json:"config"`
		Layers        []specs.Descriptor `json:"layers"`
		Annotations   map[string]string  `json:"annotations"`
	}
	if err := json.Unmarshal(raw.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	const kep = "application/vnd.cncf.seccomp-profile.config.v1+json"
	if m.SchemaVersion != 2 || m.MediaType != "application/vnd.oci.image.manifest.v1+json" || m.ArtifactType != kep {
		t.Errorf("manifest schemaVersion %d mediaType %q artifactType %q, want 2, the OCI image manifest, %q", m.SchemaVersion, m.MediaType, m.ArtifactType, kep)
	}
	if m.Config.MediaType != kep || m.Config.Digest.String() != sha([]byte("{}")) || m.Config.Size != 2 {
		t.Errorf("config %+v, want %s of {}", m.Config, kep)
	}
	if len(m.Layers) != 1 {
		t.Fatalf("layers %+v, want one", m.Layers)
	}
	l := m.Layers[0]
	if l.MediaType != "application/json" || l.Digest.String() != sha([]byte(profile)) || l.Size != int64(len(profile)) ||
		l.Annotations["org.opencontainers.image.title"] != "profile.json" {
		t.Errorf("layer %+v, want application/json, the profile's digest and size, titled profile.json", l)
	}
	for _, r := range []string{ref, reg + "/profiles/demo@" + string(d.Digest)} {
		got, err := Pull(ctx, r, Options{})
		if err != nil {
			t.Fatalf("pull %s: %v", r, err)
		}
		if !bytes.Equal(got, []byte(profile)) {
			t.Errorf("pull %s: got\n%s\nwant the pushed bytes\n%s", r, got, profile)
		}
	}
	// The same profile makes the same manifest: a second push changes
	// nothing.
	if d2, err := Push(ctx, []byte(profile), reg+"/profiles/demo:v2", Options{}); err != nil || d2.Digest != d.Digest {
		t.Errorf("second push: %v, digest %s, want %s", err, d2.Digest, d.Digest)
	}
}

// TestPullRefusesOtherArtifacts: what is not a seccomp profile artifact
// (another config media type, two layers, a layer that is no profile) is
// refused on pull, as CRI-O refuses it.
func TestPullRefusesOtherArtifacts(t *testing.T) {
	reg := testenv.StartRegistry(t)
	ctx := context.Background()
	push := func(tag, configType string, layers ...[]byte) {
		t.Helper()
		store := memory.New()
		cfg := content.NewDescriptorFromBytes(configType, []byte("{}"))
		if err := store.Push(ctx, cfg, bytes.NewReader([]byte("{}"))); err != nil {
			t.Fatal(err)
		}
		var ds []specs.Descriptor
		for _, l := range layers {
			d := content.NewDescriptorFromBytes(LayerMediaType, l)
			if err := store.Push(ctx, d, bytes.NewReader(l)); err != nil {
				t.Fatal(err)
			}
			ds = append(ds, d)
		}
		m, err := oras.PackManifest(ctx, store, oras.PackManifestVersion1_1, configType, oras.PackManifestOptions{Layers: ds, ConfigDescriptor: &cfg})
		if err != nil {
			t.Fatal(err)
		}
		if err := store.Tag(ctx, m, tag); err != nil {
			t.Fatal(err)
		}
		repo, _ := repository(mustRef(t, reg+"/other/x:"+tag), Options{})
		if _, err := oras.Copy(ctx, store, tag, repo, tag, oras.DefaultCopyOptions); err != nil {
			t.Fatal(err)
		}
	}
	push("config", "application/vnd.example.config+json", []byte(profile))
	push("two", MediaType, []byte(profile), []byte(profile+" "))
	push("notprofile", MediaType, []byte(`{"hello": "world"}`))
	for tag, want := range map[string]string{
		"config":     `config media type "application/vnd.example.config+json": not a seccomp profile artifact`,
		"two":        "2 layers, want the one holding the profile",
		"notprofile": `unknown field "hello"`,
	} {
		_, err := Pull(ctx, reg+"/other/x:"+tag, Options{})
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("pull %s: %v, want one line with %q", tag, err, want)
		}
	}
}

func mustRef(t *testing.T, s string) registry.Reference {
	t.Helper()
	r, err := parseRef(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestBadInput: bad references, an unreachable registry and what is not
// an OCI profile give one-line errors naming what is wrong.
func TestBadInput(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name string
		err  func() error
		want string
	}{
		{"no tag", func() error { _, err := Push(ctx, []byte(profile), "127.0.0.1:5000/x", Options{}); return err }, "push needs a tag"},
		{"bad ref", func() error { _, err := Push(ctx, []byte(profile), "Not A/Ref:!", Options{}); return err }, `reference "Not A/Ref:!"`},
		{"pull no tag", func() error { _, err := Pull(ctx, "127.0.0.1:5000/x", Options{}); return err }, "no tag or digest"},
		{"unreachable push", func() error { _, err := Push(ctx, []byte(profile), "127.0.0.1:1/x/y:v1", Options{}); return err }, "connection refused"},
		{"unreachable pull", func() error { _, err := Pull(ctx, "127.0.0.1:1/x/y:v1", Options{}); return err }, "connection refused"},
		{"recording", func() error {
			return Check([]byte(`{"version":2,"tool":"profgen","arch":"amd64","backend":"ebpf","syscalls":[{"name":"read","nr":0,"count":1}]}`))
		}, "a profgen recording, not an OCI seccomp profile"},
		{"unknown field", func() error { return Check([]byte(`{"defaultAction":"SCMP_ACT_ALLOW","extra":1}`)) }, `unknown field "extra"`},
		{"incomplete", func() error {
			return Check([]byte(`{"defaultAction":"SCMP_ACT_ALLOW","profgenIncomplete":"lost 3"}`))
		}, "lost events"},
		{"no action", func() error { return Check([]byte(`{"syscalls":[]}`)) }, "no defaultAction"},
		{"trailing", func() error { return Check([]byte(profile + "{}")) }, "data after the profile"},
	} {
		err := c.err()
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v, want one line with %q", c.name, err, c.want)
		}
	}
}
