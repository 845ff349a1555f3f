package bench

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// FileHash is one prepared file as `data prepare` wrote it: its path
// relative to the dataset directory, size and sha256.
type FileHash struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// HashFile returns the size and sha256 (hex) of the file at path.
func HashFile(path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

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
			_ = WriteJSONAtomic(cachePath, cache) // best effort: a read-only directory re-hashes next time
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

// checkInputs checks that the inputs of every job exist, and that every
// dataset's and model's files still have the size and sha256 recorded when
// they were prepared.
func checkInputs(cfg Config, jobs []Job) error {
	done := map[string]bool{}
	for _, j := range jobs {
		if _, err := resolveInputs(cfg, j.Case); err != nil {
			return err
		}
		refs, err := datasetRefs(cfg.DataDir, j.Case.Datasets)
		if err != nil {
			return err
		}
		for i, ref := range refs {
			name := j.Case.Datasets[i]
			if done["data:"+name] {
				continue
			}
			if len(ref.Files) == 0 {
				return fmt.Errorf("dataset %s records no file hashes (prepared by an older mlbench): run `mlbench data prepare` again", name)
			}
			if err := VerifyFiles(filepath.Join(cfg.DataDir, name), ref.Files); err != nil {
				return fmt.Errorf("dataset %s: %v: run `mlbench data prepare` to make it again", name, err)
			}
			done["data:"+name] = true
		}
		if m := j.Task.ModelMeta; m != "" && !done["models:"+m] {
			if err := verifyModel(cfg.ModelsDir, m); err != nil {
				return err
			}
			done["models:"+m] = true
		}
	}
	return nil
}

// verifyModel checks the files of a prepared model against the sha256s its
// meta.json (written by `models prepare`) records.
func verifyModel(modelsDir, meta string) error {
	var m struct {
		Model     string `json:"sha256"`
		ONNX      string `json:"onnx_sha256"`
		Tokenizer string `json:"tokenizer_sha256"`
	}
	path := filepath.Join(modelsDir, meta)
	if err := readJSON(path, &m); err != nil {
		return fmt.Errorf("model %s: %v: run `mlbench models prepare` first", filepath.Dir(meta), err)
	}
	dir := filepath.Dir(path)
	var want []FileHash
	for name, sum := range map[string]string{"model.safetensors": m.Model, "model.onnx": m.ONNX, "tokenizer.json": m.Tokenizer} {
		if sum == "" {
			return fmt.Errorf("model %s: meta.json records no sha256 of %s: run `mlbench models prepare` again", filepath.Dir(meta), name)
		}
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			return fmt.Errorf("model %s: %v: run `mlbench models prepare` again", filepath.Dir(meta), err)
		}
		want = append(want, FileHash{Path: name, Size: st.Size(), SHA256: sum})
	}
	slices.SortFunc(want, func(a, b FileHash) int { return strings.Compare(a.Path, b.Path) })
	if err := VerifyFiles(dir, want); err != nil {
		return fmt.Errorf("model %s: %v: run `mlbench models prepare` to make it again", filepath.Dir(meta), err)
	}
	return nil
}
