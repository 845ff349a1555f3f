package data

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/mlbench/mlbench/internal/atomicfile"
)

func gpt2TokenizerDataset() *dataset {
	return &dataset{
		name: "gpt2_tokenizer",
		dir:  "tokenizers/gpt2",
		sources: []sourceFile{
			{Name: "vocab.json", URL: "https://huggingface.co/openai-community/gpt2/resolve/main/vocab.json",
				SHA256: "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783"},
			{Name: "merges.txt", URL: "https://huggingface.co/openai-community/gpt2/resolve/main/merges.txt",
				SHA256: "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5"},
		},
		outputs: []string{"vocab.json", "merges.txt", "tokenizer.json"},
		build:   buildGPT2Tokenizer,
	}
}

func bertTokenizerDataset() *dataset {
	return &dataset{
		name:    "bert_tokenizer",
		dir:     "tokenizers/bert-base-uncased",
		aliases: []string{"bert_base_uncased_tokenizer"},
		sources: []sourceFile{
			// tokenizer.json first: it is the file the implementations load.
			{Name: "tokenizer.json", URL: "https://huggingface.co/google-bert/bert-base-uncased/resolve/main/tokenizer.json"},
			{Name: "vocab.txt", URL: "https://huggingface.co/google-bert/bert-base-uncased/resolve/main/vocab.txt",
				SHA256: "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"},
		},
		outputs: []string{"vocab.txt", "tokenizer.json"},
		build:   buildBERTTokenizer,
	}
}

// copyInto copies a verified source into the staging directory atomically.
func copyInto(b *buildCtx, s *obtained, name string) ([]byte, error) {
	raw, err := os.ReadFile(s.path)
	if err != nil {
		return nil, b.errf(s.src.Name, "%v", err)
	}
	p := filepath.Join(b.out, name)
	if err := atomicfile.WriteFile(p, raw); err != nil {
		return nil, b.errf(name, "%v", err)
	}
	return raw, os.Chmod(p, 0o644)
}

func buildBERTTokenizer(b *buildCtx) (string, error) {
	tj, err := copyInto(b, b.src[0], "tokenizer.json")
	if err != nil {
		return "", err
	}
	var tok struct {
		Model struct {
			Type  string         `json:"type"`
			Vocab map[string]int `json:"vocab"`
		} `json:"model"`
	}
	if err := json.Unmarshal(tj, &tok); err != nil {
		return "", b.errf("tokenizer.json", "not valid JSON: %v", err)
	}
	vocab, err := copyInto(b, b.src[1], "vocab.txt")
	if err != nil {
		return "", err
	}
	lines := strings.Split(strings.TrimRight(string(vocab), "\n"), "\n")
	if (tok.Model.Type != "WordPiece" && tok.Model.Type != "") || len(tok.Model.Vocab) != len(lines) {
		return "", b.errf("tokenizer.json", "model %q with %d tokens does not match vocab.txt (%d tokens)", tok.Model.Type, len(tok.Model.Vocab), len(lines))
	}
	for i, t := range lines {
		if id, ok := tok.Model.Vocab[t]; !ok || id != i {
			return "", b.errf("tokenizer.json", "token %q is id %d in vocab.txt but %d (present %v) in tokenizer.json", t, i, id, ok)
		}
	}
	return fmt.Sprintf("WordPiece, %d tokens; tokenizer.json checked against vocab.txt", len(lines)), nil
}

func buildGPT2Tokenizer(b *buildCtx) (string, error) {
	vraw, err := copyInto(b, b.src[0], "vocab.json")
	if err != nil {
		return "", err
	}
	mraw, err := copyInto(b, b.src[1], "merges.txt")
	if err != nil {
		return "", err
	}
	tj, nv, nm, err := BuildGPT2TokenizerJSON(vraw, mraw)
	if err != nil {
		return "", b.errf("tokenizer.json", "%v", err)
	}
	p := filepath.Join(b.out, "tokenizer.json")
	if err := atomicfile.WriteFile(p, tj); err != nil {
		return "", b.errf("tokenizer.json", "%v", err)
	}
	os.Chmod(p, 0o644)
	return fmt.Sprintf("byte-level BPE, %d tokens, %d merges; tokenizer.json (sha256 %s) built by mlbench from vocab.json and merges.txt", nv, nm, hashBytes(tj)), nil
}

// BuildGPT2TokenizerJSON builds a Hugging Face tokenizers file for GPT-2's
// byte-level BPE from vocab.json and merges.txt (whose "#version" line is
// skipped). It returns the file and the vocabulary and merge counts.
func BuildGPT2TokenizerJSON(vocabJSON, mergesTxt []byte) ([]byte, int, int, error) {
	var vocab map[string]int
	if err := json.Unmarshal(vocabJSON, &vocab); err != nil {
		return nil, 0, 0, fmt.Errorf("vocab.json: %v", err)
	}
	byID := make([]string, len(vocab))
	seen := make([]bool, len(vocab))
	for t, id := range vocab {
		if id < 0 || id >= len(vocab) || seen[id] {
			return nil, 0, 0, fmt.Errorf("vocab.json: ids are not 0..%d, each once (id %d for %q)", len(vocab)-1, id, t)
		}
		byID[id], seen[id] = t, true
	}
	eot, ok := vocab["<|endoftext|>"]
	if !ok {
		return nil, 0, 0, fmt.Errorf("vocab.json lacks <|endoftext|>")
	}
	var merges []string
	for i, line := range strings.Split(string(mergesTxt), "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" || (i == 0 && strings.HasPrefix(line, "#version")) {
			continue
		}
		parts := strings.Split(line, " ")
		if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
			return nil, 0, 0, fmt.Errorf("merges.txt line %d: %q is not a pair", i+1, line)
		}
		if _, ok := vocab[parts[0]+parts[1]]; !ok {
			return nil, 0, 0, fmt.Errorf("merges.txt line %d: merge result %q not in vocab.json", i+1, parts[0]+parts[1])
		}
		merges = append(merges, line)
	}

	enc := func(v any) []byte {
		var buf bytes.Buffer
		e := json.NewEncoder(&buf)
		e.SetEscapeHTML(false)
		e.Encode(v)
		return bytes.TrimRight(buf.Bytes(), "\n")
	}
	var out bytes.Buffer
	w := func(s string) { out.WriteString(s) }
	w(`{"version":"1.0","truncation":null,"padding":null,"added_tokens":[`)
	out.Write(enc(map[string]any{"id": eot, "content": "<|endoftext|>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": true, "special": true}))
	w(`],"normalizer":null,`)
	w(`"pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":true},`)
	w(`"post_processor":{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":false,"use_regex":true},`)
	w(`"decoder":{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":true},`)
	w(`"model":{"type":"BPE","dropout":null,"unk_token":null,"continuing_subword_prefix":"","end_of_word_suffix":"","fuse_unk":false,"byte_fallback":false,"ignore_merges":false,"vocab":{`)
	for id, t := range byID {
		if id > 0 {
			w(",")
		}
		out.Write(enc(t))
		fmt.Fprintf(&out, ":%d", id)
	}
	w(`},"merges":`)
	out.Write(enc(merges))
	w("}}\n")
	// Self-check: the result parses and keeps every token.
	var chk struct {
		Model struct {
			Vocab  map[string]int `json:"vocab"`
			Merges []string       `json:"merges"`
		} `json:"model"`
	}
	if err := json.Unmarshal(out.Bytes(), &chk); err != nil || len(chk.Model.Vocab) != len(vocab) || len(chk.Model.Merges) != len(merges) {
		return nil, 0, 0, fmt.Errorf("built tokenizer.json does not round-trip (%v)", err)
	}
	return out.Bytes(), len(vocab), len(merges), nil
}
