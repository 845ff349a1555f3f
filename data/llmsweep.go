package data

import (
	"fmt"
	"path/filepath"
)

// The LLM sweeps (`run --size sweep`) feed every implementation the same
// token ids, so that latency at each sequence length or prompt length is
// measured on identical inputs without each language's tokenizer in the
// timer or in the comparison. The ids are drawn once from the seed: a
// dense model's speed does not depend on which ids it reads, and with the
// random-initialised weights of an offline machine real text would add
// nothing but a tokenizer dependency to `data prepare`.
const (
	// SweepQuestions is the number of BERT inputs (rows) per length.
	SweepQuestions = 8
	// SweepPrompts is the number of GPT-2 prompts (rows) per length.
	SweepPrompts = 2
	// SweepBatchRows is the number of GPT-2 prompts of the batch sweep, each
	// SweepBatchPromptLen long: rows 0 .. SweepBatchRows-1 of the same
	// generator, so its first SweepPrompts rows are those of that length.
	SweepBatchRows      = 8
	SweepBatchPromptLen = 64
	// sweepQuestionTokens is the question part of a BERT input at full length.
	sweepQuestionTokens = 12

	bertCLS, bertSEP = 101, 102 // bert-base-uncased [CLS], [SEP]
	// bert-base-uncased ids 1996..29611 are whole words ("the" .. the last
	// word before the ## pieces).
	bertWordLo, bertWordHi = 1996, 29612
	gpt2Vocab              = 50257 // ids 0..50255 are text, 50256 is <|endoftext|>
)

// SweepSeqLens are the BERT sequence lengths of the sweep, SweepPromptLens
// the GPT-2 prompt lengths.
var (
	SweepSeqLens    = []int{16, 32, 64, 128, 256, 384}
	SweepPromptLens = []int{8, 64, 512}
	// SweepBatches are the GPT-2 batch sizes of the sweep; each divides
	// SweepBatchRows.
	SweepBatches = []int{1, 2, 4, 8}
)

// llmSweepSource names the generator; its sha256 is the dataset's, so a
// change of the generator (bump the version) prepares the files again.
const llmSweepSource = "generated: LLM sweep token ids v2, seed 42"

func llmSweepDataset() *dataset {
	var outs []string
	for _, l := range SweepSeqLens {
		outs = append(outs, SweepBERTIDs(l), SweepBERTTypes(l))
	}
	for _, l := range SweepPromptLens {
		outs = append(outs, SweepGPT2Prompts(l))
	}
	outs = append(outs, SweepGPT2BatchPrompts)
	return &dataset{name: "llm_sweep", dir: "llm_sweep", kind: "llm_sweep", outputs: outs, build: buildLLMSweep}
}

func llmSweepSourceFile() *obtained {
	return &obtained{src: sourceFile{Name: "generator"}, sha256: hashBytes([]byte(llmSweepSource)), official: true, source: llmSweepSource}
}

// SweepBERTIDs is the file, under the dataset's directory, of the BERT
// input ids of length l: int64 [SweepQuestions, l]; SweepBERTTypes its
// token type ids; SweepGPT2Prompts the GPT-2 prompts of length l, int64
// [SweepPrompts, l].
func SweepBERTIDs(l int) string     { return fmt.Sprintf("bert_ids_%d.npy", l) }
func SweepBERTTypes(l int) string   { return fmt.Sprintf("bert_types_%d.npy", l) }
func SweepGPT2Prompts(l int) string { return fmt.Sprintf("gpt2_prompts_%d.npy", l) }

// SweepGPT2BatchPrompts is the file of the batch sweep's prompts, int64
// [SweepBatchRows, SweepBatchPromptLen].
const SweepGPT2BatchPrompts = "gpt2_batch_prompts.npy"

// SweepBERTInput returns the ids and token types of BERT input row q at
// length l: [CLS] question [SEP] context [SEP], the question's first
// min(12, (l-3)/2) tokens and as many context tokens as fill l. Row q's
// question and context are drawn once, so every length truncates the same
// fixed question and context.
func SweepBERTInput(q, l int) (ids, types []int) {
	rng := newRNG(Seed, fmt.Sprintf("llm_sweep/bert/%d", q))
	maxLen := SweepSeqLens[len(SweepSeqLens)-1]
	draw := func(n int) []int {
		v := make([]int, n)
		for i := range v {
			v[i] = bertWordLo + rng.IntN(bertWordHi-bertWordLo)
		}
		return v
	}
	question, context := draw(sweepQuestionTokens), draw(maxLen)
	nq := min(sweepQuestionTokens, (l-3)/2)
	ids = append(append(append([]int{bertCLS}, question[:nq]...), bertSEP), context[:l-3-nq]...)
	ids = append(ids, bertSEP)
	types = make([]int, l)
	for i := nq + 2; i < l; i++ {
		types[i] = 1
	}
	return ids, types
}

// SweepGPT2Prompt returns GPT-2 prompt row p at length l: the first l of
// the row's fixed ids.
func SweepGPT2Prompt(p, l int) []int {
	rng := newRNG(Seed, fmt.Sprintf("llm_sweep/gpt2/%d", p))
	v := make([]int, SweepPromptLens[len(SweepPromptLens)-1])
	for i := range v {
		v[i] = rng.IntN(gpt2Vocab - 1)
	}
	return v[:l]
}

func buildLLMSweep(b *buildCtx) (string, error) {
	write := func(name string, rows [][]int) error {
		var v []float64
		for _, r := range rows {
			v = append(v, intsToFloats(r)...)
		}
		if err := WriteNPYFile(filepath.Join(b.out, name), "<i8", []int{len(rows), len(rows[0])}, v); err != nil {
			return b.errf(name, "%v", err)
		}
		return nil
	}
	for _, l := range SweepSeqLens {
		var ids, types [][]int
		for q := 0; q < SweepQuestions; q++ {
			i, t := SweepBERTInput(q, l)
			ids, types = append(ids, i), append(types, t)
		}
		if err := write(SweepBERTIDs(l), ids); err != nil {
			return "", err
		}
		if err := write(SweepBERTTypes(l), types); err != nil {
			return "", err
		}
	}
	for _, l := range SweepPromptLens {
		var rows [][]int
		for p := 0; p < SweepPrompts; p++ {
			rows = append(rows, SweepGPT2Prompt(p, l))
		}
		if err := write(SweepGPT2Prompts(l), rows); err != nil {
			return "", err
		}
	}
	var rows [][]int
	for p := 0; p < SweepBatchRows; p++ {
		rows = append(rows, SweepGPT2Prompt(p, SweepBatchPromptLen))
	}
	if err := write(SweepGPT2BatchPrompts, rows); err != nil {
		return "", err
	}
	return fmt.Sprintf("BERT: %d inputs at lengths %v ([CLS] question [SEP] context [SEP], bert-base-uncased whole-word ids); "+
		"GPT-2: %d prompts at lengths %v and %d prompts of %d for batches %v; ids drawn from seed %d, each length a truncation of the same rows",
		SweepQuestions, SweepSeqLens, SweepPrompts, SweepPromptLens, SweepBatchRows, SweepBatchPromptLen, SweepBatches, Seed), nil
}
