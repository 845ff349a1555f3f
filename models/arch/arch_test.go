package arch

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func readConfig(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, v))
}

// The defaults are transformers' own: testdata holds GPT2Config().to_dict()
// and BertConfig().to_dict() of transformers 5.24.0.
func TestDefaultsAreTransformersConfigs(t *testing.T) {
	var g GPT2
	readConfig(t, "testdata/gpt2_config.json", &g)
	assert.Equal(t, GPT2Small, g)
	var b Bert
	readConfig(t, "testdata/bert_config.json", &b)
	assert.Equal(t, BertBase, b)
}

// Parameter counts calculated by transformers 5.24.0 as
// sum(p.numel() for p in Model(Config(...)).parameters()).
func TestParamsMatchTransformers(t *testing.T) {
	assert.EqualValues(t, 124_439_808, GPT2Small.Params()) // GPT2LMHeadModel(GPT2Config())
	inner := 200
	tiny := GPT2{VocabSize: 50257, NPositions: 1024, NEmbd: 64, NLayer: 2, NInner: &inner}
	assert.EqualValues(t, 3_367_632, tiny.Params())         // n_layer=2, n_embd=64, n_inner=200
	assert.EqualValues(t, 108_893_186, BertBase.QAParams()) // BertForQuestionAnswering(BertConfig())
	assert.EqualValues(t, 197_122, Bert{VocabSize: 1000, MaxPositionEmbeddings: 512, TypeVocabSize: 2, HiddenSize: 64,
		NumHiddenLayers: 2, IntermediateSize: 256}.QAParams())
}

// Issue 22's figures: 494.6 MB of fp32 weights per GPT-2 token, 70.7 GFLOP
// per 384-token BERT window, 44.5 MFLOP per CNN image forward and backward.
func TestCountsGiveTheIssuesFigures(t *testing.T) {
	assert.InDelta(t, 494.6e6, GPT2Small.WeightBytesPerToken(4), 0.05e6)
	assert.InDelta(t, 70.7e9, BertBase.QAForwardFLOP(384), 0.05e9)
	assert.InDelta(t, 44.5e6, TrainFLOPPerImage(SeedCNN), 0.05e6)
}

// Exact counts from torch 2.11's FlopCounterMode (torch.utils.flop_counter):
// the CNN's forward and backward on a batch of 64, per image, is exactly
// ours; for BertForQuestionAnswering(BertConfig()) at 384 and 100 tokens
// it gave 65,230,995,456 and 16,987,238,400, leaving out the attention's
// two batched products (SDPA on the CPU), which add 12 * 2 * 2 seq^2 * 768.
func TestCountsMatchTorchsFlopCounter(t *testing.T) {
	assert.Equal(t, 44_464_128.0, TrainFLOPPerImage(SeedCNN))
	attn := func(seq float64) float64 { return 12 * 2 * 2 * seq * seq * 768 }
	assert.Equal(t, 65_230_995_456+attn(384), BertBase.QAForwardFLOP(384))
	assert.Equal(t, 16_987_238_400+attn(100), BertBase.QAForwardFLOP(100))
}

func TestWeightShapes(t *testing.T) {
	assert.Equal(t, []int64{32, 3, 3, 3}, SeedCNN[0].WeightShape())
	assert.Equal(t, []int64{512, 4096}, SeedCNN[2].WeightShape())
}
