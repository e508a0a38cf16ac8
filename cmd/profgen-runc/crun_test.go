package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/profgen/profgen/internal/cgroup"
	"github.com/profgen/profgen/internal/enginetest"
	"github.com/profgen/profgen/recording"
)

// TestCrunDirect drives the wrapper with --profgen-runtime crun, as
// TestRuncDirect does with runc: the container's calls are recorded and
// none of the engine's. crun 1.8 refuses a hybrid cgroup host ("cgroups in
// hybrid mode not supported, drop all controllers from cgroupv2"), so the
// calls run in a private mount namespace where the cgroup v2 mount's
// cgroup.controllers is covered by an empty file, as crun asks; crun then
// puts the container in a cgroup v2 directory of its own, which the
// recorder attaches to like runc's.
func TestCrunDirect(t *testing.T) {
	crun, err := exec.LookPath("crun")
	if err != nil {
		t.Skip("crun is not installed (make deps installs it)")
	}
	b := newRuncBundle(t, "500")
	// crun 1.8 knows runtime-spec versions up to 1.0.x only.
	editSpec(t, b, func(spec map[string]any) { spec["ociVersion"] = "1.0.2" })
	bin := wrapperBin(t)
	var mnt string
	mnt, err = cgroup.V2Mount()
	if err != nil {
		t.Fatal(err)
	}
	root, dir, tmp := t.TempDir(), t.TempDir(), t.TempDir()
	empty := filepath.Join(tmp, "empty")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	id := "profgen-crun-" + filepath.Base(tmp)
	wrap := fmt.Sprintf("%q --profgen-runtime %q --root %q --profgen-record-dir %q", bin, crun, root, dir)
	script := fmt.Sprintf(`%s create --bundle %q %s
%s start %s
i=0
until %q --root %q state %s | grep -q '"stopped"'; do
	i=$((i+1)); [ $i -lt 3000 ] || { echo "container did not stop" >&2; exit 1; }
	sleep 0.02
done
%s delete %s
`, wrap, b.Dir, id, wrap, id, crun, root, id, wrap, id)
	out, err := enginetest.CrunUnshare(mnt, empty, script).CombinedOutput()
	if err != nil {
		enginetest.CrunUnshare(mnt, empty, fmt.Sprintf("%s delete --force %s", wrap, id)).Run()
		t.Fatalf("crun through the wrapper: %v\n%s", err, out)
	}
	rec, err := recording.ReadFile(filepath.Join(dir, id+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if s := rec.Lookup("getppid"); s == nil || s.Count != 500 {
		t.Errorf("getppid %+v, want count 500", s)
	}
	if c := rec.Container; c == nil || c.ID != id || c.Runtime != crun {
		t.Errorf("container metadata %+v, want id %s and runtime %s", c, id, crun)
	}
	checkNoEngineCalls(t, rec)
}
