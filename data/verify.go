package data

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/mlbench/mlbench/internal/atomicfile"
)

// verifiedCache is the file, in a dataset's or model's directory, that remembers
// which files were hashed at which size and modification time, so that a
// run hashes a large input once, not at every run.
const verifiedCache = ".verified.json"

type verifiedEntry struct {
	Size    int64  `json:"size"`
	ModTime int64  `json:"mtime_ns"`
	SHA256  string `json:"sha256"`
}

var verifiedMu sync.Mutex // one writer of a cache file per process

// VerifyFiles checks that every file in want, relative to dir, has the
// recorded size and sha256. A file whose size and mtime match what dir's
// cache recorded at its last hash is not read again (a change that keeps
// both is not seen: the price of not hashing gigabytes at every run). The
// error names the first file that differs.
func VerifyFiles(dir string, want []FileHash) error {
	verifiedMu.Lock()
	defer verifiedMu.Unlock()
	cachePath := filepath.Join(dir, verifiedCache)
	cache := map[string]verifiedEntry{}
	if b, err := os.ReadFile(cachePath); err == nil {
		_ = json.Unmarshal(b, &cache) // a damaged cache only costs a re-hash
	}
	changed := false
	defer func() {
		if changed {
			_ = atomicfile.WriteJSON(cachePath, cache) // best effort: a read-only directory re-hashes next time
		}
	}()
	for _, f := range want {
		path := filepath.Join(dir, filepath.FromSlash(f.Path))
		st, err := os.Stat(path)
		if err != nil {
			return fmt.Errorf("prepared file %s: %v", path, err)
		}
		if st.Size() != f.Size {
			return fmt.Errorf("prepared file %s has %d bytes, %d when it was prepared: it was changed since", path, st.Size(), f.Size)
		}
		e, ok := cache[f.Path]
		if !ok || e.Size != st.Size() || e.ModTime != st.ModTime().UnixNano() {
			_, sum, err := HashFile(path)
			if err != nil {
				return fmt.Errorf("prepared file %s: %v", path, err)
			}
			e = verifiedEntry{Size: st.Size(), ModTime: st.ModTime().UnixNano(), SHA256: sum}
			cache[f.Path], changed = e, true
		}
		if e.SHA256 != f.SHA256 {
			return fmt.Errorf("prepared file %s has sha256 %s, %s when it was prepared: it was changed since", path, e.SHA256, f.SHA256)
		}
	}
	return nil
}
