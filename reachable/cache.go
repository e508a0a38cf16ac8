package reachable

import (
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// DefaultCacheDir is where analyses are cached: $XDG_CACHE_HOME/profgen/reachable,
// or ~/.cache/profgen/reachable.
func DefaultCacheDir() string {
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "profgen", "reachable")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".cache", "profgen", "reachable")
}

// cache reads and writes Images keyed by build-id, or by the file's
// SHA-256 when it has none. A cache that cannot be written only costs time.
type cache struct {
	dir string
	mem map[string]*Image
}

func newCache(dir string) *cache {
	switch dir {
	case "":
		dir = DefaultCacheDir()
	case "-":
		dir = ""
	}
	return &cache{dir: dir, mem: map[string]*Image{}}
}

func (c *cache) file(key string) string {
	if c.dir == "" {
		return ""
	}
	return filepath.Join(c.dir, fmt.Sprintf("v%d-%s.gob", analysisVersion, key))
}

func (c *cache) get(key string) *Image {
	if im, ok := c.mem[key]; ok {
		return im
	}
	name := c.file(key)
	if name == "" {
		return nil
	}
	fh, err := os.Open(name)
	if err != nil {
		return nil
	}
	defer fh.Close()
	var im Image
	if err := gob.NewDecoder(fh).Decode(&im); err != nil || im.Version != analysisVersion {
		return nil
	}
	c.mem[key] = &im
	return &im
}

func (c *cache) put(key string, im *Image) {
	c.mem[key] = im
	name := c.file(key)
	if name == "" {
		return
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return
	}
	tmp, err := os.CreateTemp(c.dir, ".tmp-*")
	if err != nil {
		return
	}
	if err := gob.NewEncoder(tmp).Encode(im); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		os.Remove(tmp.Name())
	}
}

// load returns the Image of the ELF file at path, from the cache when it
// is there.
func (c *cache) load(path string) (*Image, error) {
	f, err := openELF(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	key := buildID(f)
	if key == "" {
		fh, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		h := sha256.New()
		_, err = io.Copy(h, fh)
		fh.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		key = "sha256-" + hex.EncodeToString(h.Sum(nil))
	}
	if im := c.get(key); im != nil {
		return im, nil
	}
	im, err := analyzeELF(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c.put(key, im)
	return im, nil
}

var vdsoBytes = sync.OnceValues(readVDSO)

// vdso returns the Image of the running kernel's vDSO.
func (c *cache) vdso() (*Image, error) {
	b, err := vdsoBytes()
	if err != nil {
		return nil, err
	}
	f, err := parseVDSO(b)
	if err != nil {
		return nil, fmt.Errorf("[vdso]: %w", err)
	}
	key := buildID(f)
	if key != "" {
		if im := c.get("vdso-" + key); im != nil {
			return im, nil
		}
	}
	im, err := analyzeELF(f)
	if err != nil {
		return nil, fmt.Errorf("[vdso]: %w", err)
	}
	if key != "" {
		c.put("vdso-"+key, im)
	}
	return im, nil
}
