package data

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mlbench/mlbench/internal/atomicfile"
)

func squadDataset() *dataset {
	return &dataset{
		name:    "squad_v2_dev",
		dir:     "squad_v2_dev",
		aliases: []string{"squad"},
		sources: []sourceFile{{
			Name: "dev-v2.0.json",
			URL:  "https://rajpurkar.github.io/SQuAD-explorer/dataset/dev-v2.0.json",
			MD5:  "246adae8b7002f8679c027697b0b7cf8",
			Size: 4370528,
		}},
		outputs: []string{"dev-v2.0.json"},
		build:   buildSQuAD,
	}
}

// SQuAD is the part of a SQuAD v2.0 file the benchmark reads.
type SQuAD struct {
	Version string `json:"version"`
	Data    []struct {
		Title      string `json:"title"`
		Paragraphs []struct {
			Context string `json:"context"`
			QAs     []struct {
				ID           string `json:"id"`
				Question     string `json:"question"`
				IsImpossible bool   `json:"is_impossible"`
				Answers      []struct {
					Text        string `json:"text"`
					AnswerStart int    `json:"answer_start"`
				} `json:"answers"`
			} `json:"qas"`
		} `json:"paragraphs"`
	} `json:"data"`
}

// ParseSQuAD parses and checks a SQuAD v2.0 file; it returns the number of
// articles, paragraphs, questions and unanswerable questions.
func ParseSQuAD(b []byte) (s *SQuAD, articles, paragraphs, questions, impossible int, err error) {
	s = &SQuAD{}
	if err := json.Unmarshal(b, s); err != nil {
		return nil, 0, 0, 0, 0, fmt.Errorf("not valid SQuAD JSON: %v", err)
	}
	if s.Version != "v2.0" {
		return nil, 0, 0, 0, 0, fmt.Errorf("version %q, want \"v2.0\"", s.Version)
	}
	for _, a := range s.Data {
		articles++
		for _, p := range a.Paragraphs {
			paragraphs++
			for _, q := range p.QAs {
				questions++
				if q.IsImpossible {
					impossible++
				}
			}
		}
	}
	if questions == 0 {
		return nil, 0, 0, 0, 0, fmt.Errorf("no questions")
	}
	return s, articles, paragraphs, questions, impossible, nil
}

func buildSQuAD(b *buildCtx) (string, error) {
	src := b.src[0]
	raw, err := os.ReadFile(src.path)
	if err != nil {
		return "", b.errf(src.src.Name, "%v", err)
	}
	_, na, np, nq, ni, err := ParseSQuAD(raw)
	if err != nil {
		return "", b.errf(src.src.Name, "%v", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(b.out, "dev-v2.0.json"), raw); err != nil {
		return "", b.errf("dev-v2.0.json", "%v", err)
	}
	os.Chmod(filepath.Join(b.out, "dev-v2.0.json"), 0o644)
	return fmt.Sprintf("SQuAD v2.0 dev: %d articles, %d paragraphs, %d questions (%d unanswerable)", na, np, nq, ni), nil
}
