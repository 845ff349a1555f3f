package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mlbench/mlbench/data"
)

// FileHash is one prepared file as `data prepare` wrote it (data.FileHash).
type FileHash = data.FileHash

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
			if err := data.VerifyFiles(filepath.Join(cfg.DataDir, name), ref.Files); err != nil {
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
	if err := data.VerifyFiles(dir, want); err != nil {
		return fmt.Errorf("model %s: %v: run `mlbench models prepare` to make it again", filepath.Dir(meta), err)
	}
	return nil
}
