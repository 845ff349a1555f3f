package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlbench/mlbench/internal/dirlock"
	"github.com/mlbench/mlbench/internal/testenv"
	"github.com/stretchr/testify/require"
)

// fakeDigits writes a digits.csv.gz with n rows (labels i%10, except that
// classes get uneven counts) under a fake sklearn tree, and a "python" that
// reports it, so Prepare runs without Python.
func fakeDigits(t *testing.T, n int) (python string, csv string) {
	dir := t.TempDir()
	sk := filepath.Join(dir, "sklearn")
	csv = filepath.Join(sk, "datasets", "data", "digits.csv.gz")
	require.NoError(t, os.MkdirAll(filepath.Dir(csv), 0o755))
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	for i := 0; i < n; i++ {
		for j := 0; j < 64; j++ {
			fmt.Fprintf(gz, "%d,", (i+j)%17)
		}
		fmt.Fprintf(gz, "%d\n", (i*7)%10)
	}
	gz.Close()
	require.NoError(t, os.WriteFile(csv, buf.Bytes(), 0o644))
	python = filepath.Join(dir, "python")
	require.NoError(t, os.WriteFile(python, []byte("#!/bin/sh\necho 9.9.9\necho "+sk+"\n"), 0o755))
	return python, csv
}

func TestDigitsSyntheticPrepare(t *testing.T) {
	py, csv := fakeDigits(t, 1797)
	root := t.TempDir()
	require.NoError(t, Prepare([]string{"digits"}, Options{Root: root, Python: py}))
	dir := filepath.Join(root, "digits")
	X := readNPY(t, filepath.Join(dir, "X.npy"))
	y := readNPY(t, filepath.Join(dir, "y.npy"))
	require.Equal(t, []int{1797, 64}, X.Shape)
	require.Equal(t, "<i8", y.DType)
	require.Equal(t, float64(5%17), X.Data[5])
	require.Equal(t, float64(7), y.Data[1])
	tr := readNPY(t, filepath.Join(dir, "train_idx.npy")).Ints()
	te := readNPY(t, filepath.Join(dir, "test_idx.npy")).Ints()
	require.Len(t, tr, 1437)
	require.Len(t, te, 360)
	m := readMetaT(t, dir)
	require.Equal(t, "scikit-learn 9.9.9 package file sklearn/datasets/data/digits.csv.gz", m["source"])
	_, sum, _, _ := fileDigest(csv)
	require.Equal(t, sum, m["sha256"])
	require.Equal(t, true, m["official"])

	// Python without scikit-learn: one-line error, nothing written.
	root2 := t.TempDir()
	err := Prepare([]string{"digits"}, Options{Root: root2, Python: "/nonexistent/python"})
	require.ErrorContains(t, err, "digits: sklearn/datasets/data/digits.csv.gz: cannot locate scikit-learn")
	requireNotPrepared(t, root2, "digits")
}

func TestDigitsCorruptCSV(t *testing.T) {
	p := filepath.Join(t.TempDir(), "digits.csv.gz")
	require.NoError(t, os.WriteFile(p, []byte("not gzip"), 0o644))
	_, _, err := readDigitsCSV(p)
	require.ErrorContains(t, err, "corrupt gzip")
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	gz.Write([]byte("1,2,3\n"))
	gz.Close()
	require.NoError(t, os.WriteFile(p, buf.Bytes(), 0o644))
	_, _, err = readDigitsCSV(p)
	require.ErrorContains(t, err, "line 1: 3 columns, want 65")
}

func TestStratifiedSplitDigitsCounts(t *testing.T) {
	counts := []int{178, 182, 177, 183, 181, 182, 181, 179, 174, 180} // sklearn digits
	var y []int
	for c, n := range counts {
		for i := 0; i < n; i++ {
			y = append(y, c)
		}
	}
	train, test := stratifiedSplit(y, Seed, "digits/split")
	require.Len(t, train, 1437)
	require.Len(t, test, 360)
	per := make([]int, 10)
	for _, i := range test {
		per[y[i]]++
	}
	for c, n := range counts {
		require.InDelta(t, float64(n)/5, float64(per[c]), 1, "class %d", c)
	}
	require.True(t, isSorted(train) && isSorted(test))
}

func TestDigitsRealSklearn(t *testing.T) {
	py := testenv.Python(t, "sklearn")
	root := t.TempDir()
	require.NoError(t, Prepare([]string{"digits"}, Options{Root: root, Python: py}))
	dir := filepath.Join(root, "digits")
	require.Equal(t, []int{1797, 64}, readNPY(t, filepath.Join(dir, "X.npy")).Shape)
	require.Len(t, readNPY(t, filepath.Join(dir, "test_idx.npy")).Data, 360)
	require.Contains(t, readMetaT(t, dir)["source"], "package file sklearn/datasets/data/digits.csv.gz")
}

func TestBlobs(t *testing.T) {
	X, y, c := GenerateBlobs(8003, Seed)
	X2, y2, c2 := GenerateBlobs(8003, Seed)
	require.Equal(t, X, X2)
	require.Equal(t, y, y2)
	require.Equal(t, c, c2)
	count := make([]int, 8)
	sum := make([]float64, 64)
	for i, l := range y {
		count[l]++
		for j := 0; j < 8; j++ {
			sum[l*8+j] += X[i*8+j]
		}
	}
	require.Equal(t, []int{1001, 1001, 1001, 1000, 1000, 1000, 1000, 1000}, count)
	for l := 0; l < 8; l++ {
		for j := 0; j < 8; j++ {
			require.InDelta(t, c[l*8+j], sum[l*8+j]/float64(count[l]), 0.15)
			require.LessOrEqual(t, math.Abs(c[l*8+j]), 10.0)
		}
	}
	// Rows are shuffled, not grouped by label.
	require.NotEqual(t, y[:10], []int{0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	// Smaller sizes use the same centres.
	_, _, c3 := GenerateBlobs(1000, Seed)
	require.Equal(t, c, c3)

	root := t.TempDir()
	o := Options{Root: root, BlobSizes: []int{1000, 2000}}
	require.NoError(t, Prepare([]string{"blobs"}, o))
	b1, err := os.ReadFile(filepath.Join(root, "blobs", "n1000", "X.npy"))
	require.NoError(t, err)
	require.NoError(t, os.RemoveAll(filepath.Join(root, "blobs")))
	require.NoError(t, Prepare([]string{"blobs/n1000"}, o))
	b2, err := os.ReadFile(filepath.Join(root, "blobs", "n1000", "X.npy"))
	require.NoError(t, err)
	require.Equal(t, b1, b2, "same bytes twice")
	m := readMetaT(t, filepath.Join(root, "blobs", "n1000"))
	require.Equal(t, sha(b1), m["sha256"])
	require.Equal(t, "blobs/n1000", m["name"])
	require.Equal(t, true, m["official"])
	require.Equal(t, blobsSource, m["source"])
	a := readNPY(t, filepath.Join(root, "blobs", "n1000", "y.npy"))
	require.Equal(t, "<i8", a.DType)
	// The shared start of the k-means parity fit is the generating centres.
	_, _, centers := GenerateBlobs(1000, Seed)
	init := readNPY(t, filepath.Join(root, "blobs", "n1000", "init.npy"))
	require.Equal(t, []int{BlobCenters, BlobFeatures}, init.Shape)
	require.Equal(t, centers, init.Data)
	es, err := List(o)
	require.NoError(t, err)
	got := map[string]bool{}
	for _, e := range es {
		got[e.Name] = e.Prepared
	}
	require.True(t, got["blobs/n1000"])
	require.False(t, got["blobs/n2000"])
}

func TestSafetensorsRoundTrip(t *testing.T) {
	init := CNNInit(Seed)
	var buf bytes.Buffer
	require.NoError(t, WriteSafetensors(&buf, init, map[string]string{"format": "pt"}))
	b := buf.Bytes()
	hl := binary.LittleEndian.Uint64(b[:8])
	require.Zero(t, (8+hl)%8, "header padded to 8 bytes")
	var hdr map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(b[8:8+hl], &hdr))
	require.Contains(t, string(b[8:8+hl]), `"conv1.bias":{"dtype":"F32","shape":[32],"data_offsets":[0,128]}`)
	ts, md, err := parseSafetensors(b)
	require.NoError(t, err)
	require.Equal(t, "pt", md["format"])
	want := map[string][]int{"conv1.weight": {32, 3, 3, 3}, "conv1.bias": {32}, "conv2.weight": {64, 32, 3, 3}, "conv2.bias": {64},
		"fc1.weight": {512, 4096}, "fc1.bias": {512}, "fc2.weight": {10, 512}, "fc2.bias": {10}}
	require.Len(t, ts, 8)
	byName := map[string]Tensor{}
	for _, x := range init {
		byName[x.Name] = x
	}
	for i, x := range ts {
		if i > 0 {
			require.Less(t, ts[i-1].Name, x.Name)
		}
		require.Equal(t, want[x.Name], x.Shape)
		require.Equal(t, byName[x.Name].Data, x.Data)
	}
	fan := map[string]float64{"conv1": 27, "conv2": 288, "fc1": 4096, "fc2": 512}
	for _, x := range ts {
		bound := 1 / math.Sqrt(fan[strings.Split(x.Name, ".")[0]])
		lo, hi := 0.0, 0.0
		for _, v := range x.Data {
			lo, hi = min(lo, float64(v)), max(hi, float64(v))
		}
		require.LessOrEqual(t, max(-lo, hi), bound*(1+1e-6), x.Name)
		require.Less(t, lo, -bound/2)
		require.Greater(t, hi, bound/2)
	}
	require.Equal(t, init, CNNInit(Seed), "deterministic")

	// Corrupt inputs.
	_, _, err = parseSafetensors(b[:len(b)-4])
	require.ErrorContains(t, err, "data_offsets")
	_, _, err = parseSafetensors(b[:4])
	require.Error(t, err)
	require.Error(t, WriteSafetensors(&buf, []Tensor{{Name: "a", Shape: []int{2}, Data: []float32{1}}}, nil))
}

func TestSQuADPromptsAndTokenizers(t *testing.T) {
	squad := []byte(`{"version":"v2.0","data":[{"title":"T","paragraphs":[{"context":"abc","qas":[
		{"id":"1","question":"q?","is_impossible":false,"answers":[{"text":"a","answer_start":0}]},
		{"id":"2","question":"r?","is_impossible":true,"answers":[]}]}]}]}`)
	vocab := []byte(`{"a":0,"b":1,"ab":2,"\u0120":3,"\u0120ab":4,"<|endoftext|>":5}`)
	merges := []byte("#version: 0.2\na b\n\u0120 ab\n")
	bertVocab := []byte("[PAD]\n[UNK]\nhello\n")
	bertTok := []byte(`{"version":"1.0","model":{"type":"WordPiece","vocab":{"[PAD]":0,"[UNK]":1,"hello":2}}}`)
	mirror := newMirror(t,
		mirrorFile{dataset: "squad_v2_dev", file: "squad/dev-v2.0.json", url: "https://rajpurkar.github.io/SQuAD-explorer/dataset/dev-v2.0.json", body: squad},
		mirrorFile{dataset: "gpt2_tokenizer", file: "tok/gpt2/vocab.json", url: "https://huggingface.co/openai-community/gpt2/resolve/main/vocab.json", body: vocab, identical: true},
		mirrorFile{dataset: "gpt2_tokenizer", file: "tok/gpt2/merges.txt", url: "https://huggingface.co/openai-community/gpt2/resolve/main/merges.txt", body: merges, identical: true},
		mirrorFile{dataset: "bert_base_uncased_tokenizer", file: "tok/bert/vocab.txt", url: "https://huggingface.co/google-bert/bert-base-uncased/resolve/main/vocab.txt", body: bertVocab, identical: true},
		mirrorFile{dataset: "bert_base_uncased_tokenizer", file: "tok/bert/tokenizer.json", url: "https://huggingface.co/google-bert/bert-base-uncased/resolve/main/tokenizer.json", body: bertTok},
	)
	// The test files are not the official ones: drop the known sha256s.
	setSource(t, "gpt2_tokenizer", 0, func(s *sourceFile) { s.SHA256 = "" })
	setSource(t, "gpt2_tokenizer", 1, func(s *sourceFile) { s.SHA256 = "" })
	setSource(t, "bert_tokenizer", 1, func(s *sourceFile) { s.SHA256 = "" })
	root := t.TempDir()
	o := Options{Root: root, Mirror: mirror}
	require.NoError(t, Prepare([]string{"squad_v2_dev", "prompts", "gpt2_tokenizer", "bert_tokenizer"}, o))

	got, err := os.ReadFile(filepath.Join(root, "squad_v2_dev", "dev-v2.0.json"))
	require.NoError(t, err)
	require.Equal(t, squad, got)
	require.Contains(t, readMetaT(t, filepath.Join(root, "squad_v2_dev"))["note"], "2 questions (1 unanswerable)")

	ps, err := ReadPrompts(filepath.Join(root, "prompts", "prompts.json"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(ps), 16)
	require.LessOrEqual(t, len(ps), 18)
	for _, p := range ps {
		n := len(strings.Fields(p))
		require.True(t, n >= 5 && n <= 60, "%d words: %q", n, p)
	}
	pm := readMetaT(t, filepath.Join(root, "prompts"))
	require.Equal(t, "repository file data/prompts.json", pm["source"])
	require.Equal(t, sha(promptsJSON), pm["sha256"])

	gdir := filepath.Join(root, "tokenizers", "gpt2")
	var tok struct {
		AddedTokens []struct {
			ID      int    `json:"id"`
			Content string `json:"content"`
			Special bool   `json:"special"`
		} `json:"added_tokens"`
		PreTokenizer map[string]any `json:"pre_tokenizer"`
		Model        struct {
			Type   string         `json:"type"`
			Vocab  map[string]int `json:"vocab"`
			Merges []string       `json:"merges"`
		} `json:"model"`
	}
	b, err := os.ReadFile(filepath.Join(gdir, "tokenizer.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &tok))
	require.Equal(t, "BPE", tok.Model.Type)
	require.Equal(t, []string{"a b", "\u0120 ab"}, tok.Model.Merges)
	require.Equal(t, 4, tok.Model.Vocab["\u0120ab"])
	require.Equal(t, 5, tok.AddedTokens[0].ID)
	require.True(t, tok.AddedTokens[0].Special)
	require.Equal(t, "ByteLevel", tok.PreTokenizer["type"])
	require.Equal(t, false, tok.PreTokenizer["add_prefix_space"])
	gm := readMetaT(t, gdir)
	require.Equal(t, sha(vocab), gm["sha256"])
	require.Equal(t, true, gm["official"])
	require.Contains(t, gm["note"], sha(merges))

	bm := readMetaT(t, filepath.Join(root, "tokenizers", "bert-base-uncased"))
	require.Equal(t, false, bm["official"], "tokenizer.json is not identical in this mirror")
	require.Equal(t, sha(bertTok), bm["sha256"])

	es, err := List(o)
	require.NoError(t, err)
	for _, e := range es {
		switch e.Name {
		case "squad_v2_dev", "prompts", "gpt2_tokenizer", "bert_tokenizer":
			require.True(t, e.Prepared, e.Name)
		}
	}

	// Invalid SQuAD and merges.
	_, _, _, _, _, err = ParseSQuAD([]byte(`{"version":"v1.1","data":[]}`))
	require.ErrorContains(t, err, `version "v1.1"`)
	_, _, _, _, _, err = ParseSQuAD([]byte(`{"version":`))
	require.Error(t, err)
	_, _, _, err = BuildGPT2TokenizerJSON(vocab, []byte("a b c\n"))
	require.ErrorContains(t, err, "not a pair")
}

func TestGPT2TokenizerFromMirror(t *testing.T) {
	v, err := os.ReadFile(testenv.MirrorFile(t, "tokenizers/gpt2/vocab.json"))
	require.NoError(t, err)
	m, err := os.ReadFile(testenv.MirrorFile(t, "tokenizers/gpt2/merges.txt"))
	require.NoError(t, err)
	tj, nv, nm, err := BuildGPT2TokenizerJSON(v, m)
	require.NoError(t, err)
	require.Equal(t, 50257, nv)
	require.Equal(t, 50000, nm)
	var tok struct {
		Model struct {
			Vocab  map[string]int `json:"vocab"`
			Merges []string       `json:"merges"`
		} `json:"model"`
	}
	require.NoError(t, json.Unmarshal(tj, &tok))
	require.Equal(t, 15496, tok.Model.Vocab["Hello"])
	require.Equal(t, 995, tok.Model.Vocab["\u0120world"])
	require.Equal(t, "\u0120 t", tok.Model.Merges[0])
}

func TestPrepareRecordsHashesAndRebuildsAlteredOutput(t *testing.T) {
	py, _ := fakeDigits(t, 1797)
	root := t.TempDir()
	var log bytes.Buffer
	o := Options{Root: root, Python: py, Progress: &log}
	require.NoError(t, Prepare([]string{"digits"}, o))
	dir := filepath.Join(root, "digits")
	m := readMetaT(t, dir)
	files, _ := m["files"].([]any)
	require.Len(t, files, 4, "every output is recorded: %v", m["files"])
	for _, f := range files {
		e := f.(map[string]any)
		_, sum, _, err := fileDigest(filepath.Join(dir, e["path"].(string)))
		require.NoError(t, err)
		require.Equal(t, sum, e["sha256"], e["path"])
	}

	// 100 values of X zeroed, same size: prepare sees it and makes it again.
	x := filepath.Join(dir, "X.npy")
	before, err := os.ReadFile(x)
	require.NoError(t, err)
	altered := bytes.Clone(before)
	for i := len(altered) - 800; i < len(altered); i++ {
		altered[i] = 0
	}
	require.NoError(t, os.WriteFile(x, altered, 0o644))
	log.Reset()
	require.NoError(t, Prepare([]string{"digits"}, o))
	require.Contains(t, log.String(), "no longer matches what was prepared")
	require.Contains(t, log.String(), "X.npy has sha256")
	after, err := os.ReadFile(x)
	require.NoError(t, err)
	require.Equal(t, before, after, "X.npy made again")
	log.Reset()
	require.NoError(t, Prepare([]string{"digits"}, o))
	require.Contains(t, log.String(), "up to date")
}

func TestPrepareRemovesStaleStagingAndLocks(t *testing.T) {
	py, _ := fakeDigits(t, 1797)
	root := t.TempDir()
	stale := []string{filepath.Join(root, ".cifar10.tmp-123"), filepath.Join(root, ".digits.old-9"), filepath.Join(root, "blobs", ".n1000.tmp-7")}
	for _, d := range stale {
		require.NoError(t, os.MkdirAll(d, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(d, "train_x.npy"), make([]byte, 1000), 0o644))
	}
	keep := filepath.Join(root, ".verified.json.tmp-1") // a file, not a staging directory
	require.NoError(t, os.WriteFile(keep, nil, 0o644))

	held, err := dirlock.Take(root)
	require.NoError(t, err)
	err = Prepare([]string{"digits"}, Options{Root: root, Python: py})
	require.ErrorContains(t, err, "in use by another mlbench process")
	for _, d := range stale {
		require.DirExists(t, d, "not removed while another prepare may own it")
	}
	held.Unlock()

	require.NoError(t, Prepare([]string{"digits"}, Options{Root: root, Python: py}))
	for _, d := range stale {
		require.NoDirExists(t, d)
	}
	require.FileExists(t, keep)
}
