package data

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mlbench/mlbench/internal/atomicfile"
)

// promptsJSON is the repository file data/prompts.json, embedded so the
// binary prepares it from anywhere.
//
//go:embed prompts.json
var promptsJSON []byte

const promptsSourceName = "repository file data/prompts.json"

func promptsDataset() *dataset {
	return &dataset{name: "prompts", dir: "prompts", kind: "prompts", outputs: []string{"prompts.json"}, build: buildPrompts}
}

func promptsSource() *obtained {
	return &obtained{src: sourceFile{Name: "prompts.json"}, sha256: hashBytes(promptsJSON), official: true, source: promptsSourceName}
}

// Prompts is the prompts file's content.
type Prompts struct {
	Prompts []string `json:"prompts"`
}

// ParsePrompts parses and checks a prompts file.
func ParsePrompts(b []byte) (*Prompts, error) {
	var p Prompts
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("prompts: %v", err)
	}
	if len(p.Prompts) == 0 {
		return nil, fmt.Errorf("prompts: no prompts")
	}
	for i, s := range p.Prompts {
		if s == "" {
			return nil, fmt.Errorf("prompts: prompt %d is empty", i)
		}
	}
	return &p, nil
}

// ReadPrompts reads a prepared prompts.json.
func ReadPrompts(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p, err := ParsePrompts(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return p.Prompts, nil
}

func buildPrompts(b *buildCtx) (string, error) {
	p, err := ParsePrompts(promptsJSON)
	if err != nil {
		return "", b.errf("prompts.json", "%v", err)
	}
	out := filepath.Join(b.out, "prompts.json")
	if err := atomicfile.WriteFile(out, promptsJSON); err != nil {
		return "", b.errf("prompts.json", "%v", err)
	}
	os.Chmod(out, 0o644)
	return fmt.Sprintf("%d prompts", len(p.Prompts)), nil
}
