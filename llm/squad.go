package llm

import (
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strings"
	"unicode"
)

// BERT special token ids (bert-base-uncased vocabulary).
const (
	BertCLS = 101
	BertSEP = 102
)

// MaxQuestionTokens is how many question tokens a window keeps (docs/LLM.md).
const MaxQuestionTokens = 64

// Window is one model input of a question: [CLS] question [SEP]
// context[Offset:Offset+N] [SEP].
type Window struct {
	IDs      []int64 // input_ids
	TypeIDs  []int64 // token_type_ids: 0 for [CLS] question [SEP], 1 after
	Start    int     // position of the first context token in IDs
	Offset   int     // index of that token among the context tokens
	NContext int     // number of context tokens in the window
}

// Windows splits a question over the context tokens as docs/LLM.md says
// (Hugging Face's truncation="only_second", return_overflowing_tokens=True):
// the question is cut to MaxQuestionTokens, each window holds
// L = maxLength - len(question) - 3 context tokens, and windows start at
// 0, L-stride, 2(L-stride), ... until one reaches the end of the context.
// An empty context gives one window with no context tokens.
func Windows(question, context []int64, maxLength, stride int) ([]Window, error) {
	if len(question) > MaxQuestionTokens {
		question = question[:MaxQuestionTokens]
	}
	L := maxLength - len(question) - 3
	if L <= 0 {
		return nil, fmt.Errorf("max_length %d leaves no room for context after a %d-token question", maxLength, len(question))
	}
	if stride < 0 || stride >= L {
		return nil, fmt.Errorf("stride %d must be in [0, %d) (context tokens per window)", stride, L)
	}
	var ws []Window
	for start := 0; ; start += L - stride {
		end := min(start+L, len(context))
		w := Window{Start: len(question) + 2, Offset: start, NContext: end - start}
		n := len(question) + 3 + w.NContext
		w.IDs = make([]int64, 0, n)
		w.IDs = append(w.IDs, BertCLS)
		w.IDs = append(w.IDs, question...)
		w.IDs = append(w.IDs, BertSEP)
		w.IDs = append(w.IDs, context[start:end]...)
		w.IDs = append(w.IDs, BertSEP)
		w.TypeIDs = make([]int64, n)
		for i := w.Start; i < n; i++ {
			w.TypeIDs[i] = 1
		}
		ws = append(ws, w)
		if end >= len(context) {
			return ws, nil
		}
	}
}

// Span is a predicted answer span.
type Span struct {
	Window     int     // window index
	Start, End int     // context token indices (inclusive)
	Score      float64 // start logit + end logit
}

// Answer is the post-processed prediction for one question.
type Answer struct {
	Text      string
	Best      Span    // the best span (Score -Inf when there was none)
	NullScore float64 // min over windows of start_logits[0] + end_logits[0]
}

// topIndices returns the positions in [lo, hi) of the n largest values of x
// (ties: lower position first), in increasing position order.
func topIndices(x []float32, lo, hi, n int) []int {
	if n <= 0 || hi <= lo {
		return nil
	}
	// Insertion into a short list kept largest first: O((hi-lo)·n), and
	// positions arrive in increasing order, so equal values keep it.
	top := make([]int, 0, min(n, hi-lo)+1)
	for i := lo; i < hi; i++ {
		if len(top) == n && !(x[i] > x[top[n-1]]) {
			continue
		}
		j := len(top)
		for j > 0 && x[i] > x[top[j-1]] {
			j--
		}
		top = slices.Insert(top, j, i)
		if len(top) > n {
			top = top[:n]
		}
	}
	slices.Sort(top)
	return top
}

// Postprocess picks the answer of one question from the logits of its
// windows (docs/LLM.md): in each window the nBest largest start and end
// logits among context positions; spans with start <= end and length <=
// maxAnswerLength; score = start + end logit; the best span over all
// windows wins if its score is above the null score, the minimum over
// windows of start[0] + end[0]; else the answer is "". Ties go to the
// earlier window, lower start, lower end (as reference/python/llm_common.py).
// offsets are the context tokens' byte ranges in context.
func Postprocess(ws []Window, startLogits, endLogits [][]float32, context string, offsets [][2]int,
	nBest, maxAnswerLength int) (Answer, error) {
	if len(ws) == 0 || len(startLogits) != len(ws) || len(endLogits) != len(ws) {
		return Answer{}, fmt.Errorf("postprocess: %d windows, %d start and %d end logit rows", len(ws), len(startLogits), len(endLogits))
	}
	a := Answer{Best: Span{Score: math.Inf(-1)}, NullScore: math.Inf(1)}
	for w, win := range ws {
		sl, el := startLogits[w], endLogits[w]
		if len(sl) != len(win.IDs) || len(el) != len(win.IDs) {
			return Answer{}, fmt.Errorf("postprocess: window %d has %d tokens but %d start and %d end logits", w, len(win.IDs), len(sl), len(el))
		}
		a.NullScore = math.Min(a.NullScore, float64(sl[0])+float64(el[0]))
		lo, hi := win.Start, win.Start+win.NContext
		for _, s := range topIndices(sl, lo, hi, nBest) {
			for _, e := range topIndices(el, lo, hi, nBest) {
				if e < s || e-s+1 > maxAnswerLength {
					continue
				}
				score := float64(sl[s]) + float64(el[e])
				if score > a.Best.Score {
					a.Best = Span{Window: w, Start: win.Offset + s - lo, End: win.Offset + e - lo, Score: score}
				}
			}
		}
	}
	if a.Best.Score > a.NullScore {
		if a.Best.End >= len(offsets) {
			return Answer{}, fmt.Errorf("postprocess: span end %d beyond the %d context offsets", a.Best.End, len(offsets))
		}
		from, to := offsets[a.Best.Start][0], offsets[a.Best.End][1]
		if from > to || to > len(context) {
			return Answer{}, fmt.Errorf("postprocess: byte range [%d,%d) outside the context (%d bytes)", from, to, len(context))
		}
		a.Text = context[from:to]
	}
	return a, nil
}

// SQuAD v2.0 evaluation, as the official script (evaluate-v2.0.py).

// asciiPunct is Python's string.punctuation.
const asciiPunct = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"

func isWord(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r) }

// NormalizeAnswer lower-cases s, removes punctuation and the articles a, an
// and the (as whole words), and collapses white space.
func NormalizeAnswer(s string) string {
	s = strings.ToLower(s)
	s = strings.Map(func(r rune) rune {
		if r < 128 && strings.ContainsRune(asciiPunct, r) {
			return -1
		}
		return r
	}, s)
	// Python: re.sub(r'\b(a|an|the)\b', ' ', s) with Unicode word boundaries.
	rs := []rune(s)
	var b strings.Builder
	for i := 0; i < len(rs); {
		if i == 0 || !isWord(rs[i-1]) {
			matched := 0
			for _, art := range []string{"the", "an", "a"} {
				n := len(art)
				if i+n <= len(rs) && string(rs[i:i+n]) == art && (i+n == len(rs) || !isWord(rs[i+n])) {
					matched = n
					break
				}
			}
			if matched > 0 {
				b.WriteByte(' ')
				i += matched
				continue
			}
		}
		b.WriteRune(rs[i])
		i++
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// ExactMatch is 1 when the normalised answers are equal, else 0.
func ExactMatch(gold, pred string) float64 {
	if NormalizeAnswer(gold) == NormalizeAnswer(pred) {
		return 1
	}
	return 0
}

// F1 is the token-level F1 of the normalised answers; when either has no
// tokens it is 1 if both have none, else 0.
func F1(gold, pred string) float64 {
	g, p := strings.Fields(NormalizeAnswer(gold)), strings.Fields(NormalizeAnswer(pred))
	if len(g) == 0 || len(p) == 0 {
		if len(g) == len(p) {
			return 1
		}
		return 0
	}
	count := map[string]int{}
	for _, t := range g {
		count[t]++
	}
	same := 0
	for _, t := range p {
		if count[t] > 0 {
			count[t]--
			same++
		}
	}
	if same == 0 {
		return 0
	}
	prec, rec := float64(same)/float64(len(p)), float64(same)/float64(len(g))
	return 2 * prec * rec / (prec + rec)
}

// SQuADScores returns the exact match and F1 of pred against the gold
// answers, the maximum over them; answers that normalise to "" are dropped,
// and no gold answers at all (an unanswerable question) means [""].
func SQuADScores(golds []string, pred string) (em, f1 float64) {
	var gs []string
	for _, g := range golds {
		if NormalizeAnswer(g) != "" {
			gs = append(gs, g)
		}
	}
	if len(gs) == 0 {
		gs = []string{""}
	}
	for _, g := range gs {
		em = math.Max(em, ExactMatch(g, pred))
		f1 = math.Max(f1, F1(g, pred))
	}
	return em, f1
}

// Argmax returns the index of the largest value, the lowest index on ties;
// NaNs are never chosen unless every value is NaN (then 0).
func Argmax(x []float32) int {
	best := 0
	for i := 1; i < len(x); i++ {
		if x[i] > x[best] || x[best] != x[best] {
			best = i
		}
	}
	return best
}

// AnswerHash is the 32-bit FNV-1a hash of the answer's UTF-8 bytes: the
// "answers" probe, one per question, compares answer texts as numbers.
func AnswerHash(text string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(text))
	return h.Sum32()
}
