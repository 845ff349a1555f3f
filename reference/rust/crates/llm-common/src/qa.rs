//! The framework-free parts of docs/LLM.md, as reference/python/llm_common.py
//! and llm/squad.go: SQuAD order, windows, post-processing, the official
//! SQuAD v2.0 EM/F1, percentiles and argmax.

use mlbench_common::Res;
use serde_json::Value;

/// How many question tokens a window keeps.
pub const MAX_QUESTION_TOKENS: usize = 64;
/// Probes: the first 20 questions' first window, 64 positions each.
pub const PROBE_QUESTIONS: usize = 20;
pub const PROBE_POSITIONS: usize = 64;
/// Probes: the first prompt's first 5 generated positions, vocabulary ids 0..255.
pub const PROBE_STEPS: usize = 5;
pub const PROBE_VOCAB: usize = 256;

/// One SQuAD question.
#[derive(Debug, Clone)]
pub struct Question {
    pub id: String,
    pub question: String,
    pub context: String,
    /// Gold answer texts; empty when unanswerable.
    pub answers: Vec<String>,
}

/// SQuAD 2.0 questions in file order (articles, paragraphs, qas); the first `limit` (0 = all).
pub fn load_squad(path: &str, limit: usize) -> Res<Vec<Question>> {
    let b = std::fs::read(path).map_err(|e| format!("read {path}: {e}"))?;
    let v: Value = serde_json::from_slice(&b).map_err(|e| format!("{path}: {e}"))?;
    let bad = || format!("{path}: not a SQuAD file (data → paragraphs → qas)");
    let mut out = Vec::new();
    for article in v["data"].as_array().ok_or_else(bad)? {
        for p in article["paragraphs"].as_array().ok_or_else(bad)? {
            let context = p["context"].as_str().ok_or_else(bad)?;
            for qa in p["qas"].as_array().ok_or_else(bad)? {
                let answers = qa["answers"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|x| x["text"].as_str().map(String::from)).collect())
                    .unwrap_or_default();
                out.push(Question {
                    id: qa["id"].as_str().unwrap_or("").to_string(),
                    question: qa["question"].as_str().ok_or_else(bad)?.to_string(),
                    context: context.to_string(),
                    answers,
                });
                if limit > 0 && out.len() == limit {
                    return Ok(out);
                }
            }
        }
    }
    Ok(out)
}

/// The prompts of prompts.json; the first `limit` (0 = all).
pub fn load_prompts(path: &str, limit: usize) -> Res<Vec<String>> {
    let b = std::fs::read(path).map_err(|e| format!("read {path}: {e}"))?;
    let v: Value = serde_json::from_slice(&b).map_err(|e| format!("{path}: {e}"))?;
    let mut ps: Vec<String> = v["prompts"]
        .as_array()
        .ok_or_else(|| format!("{path}: no \"prompts\" list"))?
        .iter()
        .map(|p| p.as_str().map(String::from).ok_or_else(|| format!("{path}: a prompt is not a string")))
        .collect::<Result<_, _>>()?;
    if limit > 0 {
        ps.truncate(limit);
    }
    if ps.is_empty() {
        return Err(format!("{path}: no prompts").into());
    }
    Ok(ps)
}

/// One model input of a question: `[CLS] question [SEP] context window [SEP]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    pub input_ids: Vec<i64>,
    /// 0 for `[CLS] question [SEP]`, 1 after.
    pub token_type_ids: Vec<i64>,
    /// All ones (batch 1, no padding).
    pub attention_mask: Vec<i64>,
    /// Position of the window's first context token in input_ids.
    pub context_start: usize,
    /// Byte range in the context of each of the window's context tokens.
    pub offsets: Vec<(usize, usize)>,
}

/// The windows of docs/LLM.md over the context tokens `context` (ids and byte
/// offsets): the question cut to MAX_QUESTION_TOKENS, L = max_length -
/// len(question) - 3 context tokens per window (an error unless L > stride),
/// windows starting at 0, L-stride, 2(L-stride), ... until one reaches the end.
pub fn windows(
    question: &[u32],
    context_ids: &[u32],
    context_offsets: &[(usize, usize)],
    cls: u32,
    sep: u32,
    max_length: usize,
    stride: usize,
) -> Res<Vec<Window>> {
    if context_ids.len() != context_offsets.len() {
        return Err(format!("windows: {} context ids but {} offsets", context_ids.len(), context_offsets.len()).into());
    }
    let q = &question[..question.len().min(MAX_QUESTION_TOKENS)];
    let size = max_length as i64 - q.len() as i64 - 3;
    if size <= stride as i64 {
        return Err(format!("max_length {max_length} leaves {size} context tokens, not more than stride {stride}").into());
    }
    let size = size as usize;
    let mut head: Vec<i64> = Vec::with_capacity(q.len() + 2);
    head.push(cls as i64);
    head.extend(q.iter().map(|&t| t as i64));
    head.push(sep as i64);
    let mut out = Vec::new();
    let mut start = 0;
    loop {
        let end = (start + size).min(context_ids.len());
        let n = head.len() + (end - start) + 1;
        let mut ids = Vec::with_capacity(n);
        ids.extend_from_slice(&head);
        ids.extend(context_ids[start..end].iter().map(|&t| t as i64));
        ids.push(sep as i64);
        let mut types = vec![1i64; n];
        types[..head.len()].iter_mut().for_each(|t| *t = 0);
        out.push(Window {
            input_ids: ids,
            token_type_ids: types,
            attention_mask: vec![1; n],
            context_start: head.len(),
            offsets: context_offsets[start..end].to_vec(),
        });
        if end == context_ids.len() {
            return Ok(out);
        }
        start += size - stride;
    }
}

/// The positions in [lo, hi) of the n largest values of x (ties: lower
/// position first, as a stable sort), in increasing position order.
pub fn top_indices(x: &[f32], lo: usize, hi: usize, n: usize) -> Vec<usize> {
    if n == 0 || hi <= lo {
        return vec![];
    }
    let mut idx: Vec<usize> = (lo..hi).collect();
    // Stable, descending; NaN compares as equal (numpy puts NaN last in
    // argsort(-x), an edge the finite logits never reach).
    idx.sort_by(|&a, &b| x[b].partial_cmp(&x[a]).unwrap_or(std::cmp::Ordering::Equal));
    idx.truncate(n);
    idx.sort_unstable();
    idx
}

/// The outcome of post-processing one question.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The answer text, "" for no answer.
    pub text: String,
    /// The best span: (window, start, end) as context-token indices within the
    /// window, or None when there was no candidate.
    pub best: Option<(usize, usize, usize)>,
    pub best_score: f64,
    pub null_score: f64,
}

/// Picks the answer as docs/LLM.md says: in each window the n_best largest
/// start and end logits among its context positions; spans with start <= end
/// and at most max_answer_length tokens; score = start + end logit (f64); the
/// best over all windows (ties: earlier window, lower start, lower end) wins if
/// its score is above the null score (the minimum over windows of
/// start[0] + end[0]), else "".
pub fn best_answer(
    context: &str,
    wins: &[Window],
    start_logits: &[Vec<f32>],
    end_logits: &[Vec<f32>],
    n_best: usize,
    max_answer_length: usize,
) -> Res<Answer> {
    if wins.is_empty() || start_logits.len() != wins.len() || end_logits.len() != wins.len() {
        return Err(
            format!("postprocess: {} windows, {} start and {} end logit rows", wins.len(), start_logits.len(), end_logits.len()).into()
        );
    }
    let mut best = None;
    let mut best_score = f64::NEG_INFINITY;
    let mut null = f64::INFINITY;
    for (w, (win, (s, e))) in wins.iter().zip(start_logits.iter().zip(end_logits)).enumerate() {
        if s.len() != win.input_ids.len() || e.len() != win.input_ids.len() {
            return Err(format!(
                "postprocess: window {w} has {} tokens but {} start and {} end logits",
                win.input_ids.len(),
                s.len(),
                e.len()
            )
            .into());
        }
        null = null.min(s[0] as f64 + e[0] as f64);
        let (lo, hi) = (win.context_start, win.context_start + win.offsets.len());
        let starts = top_indices(s, lo, hi, n_best);
        let ends = top_indices(e, lo, hi, n_best);
        for &i in &starts {
            for &j in &ends {
                if j < i || j - i + 1 > max_answer_length {
                    continue;
                }
                let score = s[i] as f64 + e[j] as f64;
                if score > best_score {
                    best = Some((w, i - lo, j - lo));
                    best_score = score;
                }
            }
        }
    }
    let mut text = String::new();
    if let Some((w, i, j)) = best {
        if best_score > null {
            let (from, to) = (wins[w].offsets[i].0, wins[w].offsets[j].1);
            text = context
                .get(from..to)
                .ok_or_else(|| format!("postprocess: byte range [{from},{to}) is not a piece of the context ({} bytes)", context.len()))?
                .to_string();
        }
    }
    Ok(Answer { text, best, best_score, null_score: null })
}

// --- the official SQuAD v2.0 metrics (evaluate-v2.0.py) ---------------------------------

/// Python's string.punctuation.
const PUNCT: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

/// Python's `\w` for `re` on str: letters, numbers, underscore.
fn is_word(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Python's str.isspace (str.split() with no argument): Unicode White_Space
/// and the separators U+001C..U+001F.
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Lower-cases s, removes punctuation and the articles a, an, the (whole
/// words), and collapses white space.
pub fn normalize_answer(s: &str) -> String {
    let s: Vec<char> = s.to_lowercase().chars().filter(|c| !(c.is_ascii() && PUNCT.contains(*c))).collect();
    // re.sub(r"\b(a|an|the)\b", " ", s): leftmost alternative first ("a"
    // before "an"), the match must end at a word boundary.
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if i == 0 || !is_word(s[i - 1]) {
            let hit = ["a", "an", "the"]
                .iter()
                .map(|a| a.chars().collect::<Vec<_>>())
                .find(|a| i + a.len() <= s.len() && s[i..i + a.len()] == a[..] && (i + a.len() == s.len() || !is_word(s[i + a.len()])));
            if let Some(a) = hit {
                out.push(' ');
                i += a.len();
                continue;
            }
        }
        out.push(s[i]);
        i += 1;
    }
    out.split(is_py_space).filter(|t| !t.is_empty()).collect::<Vec<_>>().join(" ")
}

fn tokens(s: &str) -> Vec<String> {
    normalize_answer(s).split(' ').filter(|t| !t.is_empty()).map(String::from).collect()
}

/// 1 when the normalised answers are equal, else 0.
pub fn exact_match(gold: &str, pred: &str) -> f64 {
    if normalize_answer(gold) == normalize_answer(pred) {
        1.0
    } else {
        0.0
    }
}

/// Token-level F1 of the normalised answers; when either has no tokens, 1 if
/// both have none, else 0.
pub fn f1(gold: &str, pred: &str) -> f64 {
    let (g, p) = (tokens(gold), tokens(pred));
    if g.is_empty() || p.is_empty() {
        return if g.len() == p.len() { 1.0 } else { 0.0 };
    }
    let mut count = std::collections::HashMap::<&str, usize>::new();
    for t in &g {
        *count.entry(t).or_default() += 1;
    }
    let mut same = 0;
    for t in &p {
        if let Some(c) = count.get_mut(t.as_str()) {
            if *c > 0 {
                *c -= 1;
                same += 1;
            }
        }
    }
    if same == 0 {
        return 0.0;
    }
    let (prec, rec) = (same as f64 / p.len() as f64, same as f64 / g.len() as f64);
    2.0 * prec * rec / (prec + rec)
}

/// (exact, f1) of one prediction: the max over gold answers; answers that
/// normalise to "" are dropped and no gold answer at all means [""].
pub fn squad_scores(answers: &[String], pred: &str) -> (f64, f64) {
    let mut golds: Vec<&str> = answers.iter().map(|s| s.as_str()).filter(|a| !normalize_answer(a).is_empty()).collect();
    if golds.is_empty() {
        golds.push("");
    }
    let em = golds.iter().map(|g| exact_match(g, pred)).fold(0.0, f64::max);
    let f = golds.iter().map(|g| f1(g, pred)).fold(0.0, f64::max);
    (em, f)
}

/// Linear interpolation between closest ranks (numpy's default, R type 7).
/// 32-bit FNV-1a of the answer's UTF-8 bytes: the `answers` probe compares answer texts as numbers.
pub fn answer_hash(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5, |h, b| (h ^ b as u32).wrapping_mul(0x0100_0193))
}

pub fn percentile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let h = (v.len() - 1) as f64 * q / 100.0;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(v.len() - 1);
    let t = h - lo as f64;
    // numpy's _lerp: a + (b-a)t, or b - (b-a)(1-t) for t >= 0.5.
    let (a, b) = (v[lo], v[hi]);
    if t >= 0.5 {
        b - (b - a) * (1.0 - t)
    } else {
        a + (b - a) * t
    }
}

/// The index of the largest value, the lowest on ties; NaN is never chosen
/// unless every value is NaN (then 0).
pub fn argmax(x: &[f32]) -> usize {
    let mut best = 0;
    for i in 1..x.len() {
        if x[i] > x[best] || x[best].is_nan() {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::slice::from_ref;

    fn seq(from: u32, n: usize) -> Vec<u32> {
        (0..n as u32).map(|i| from + i).collect()
    }
    fn offs(n: usize) -> Vec<(usize, usize)> {
        (0..n).map(|i| (2 * i, 2 * i + 1)).collect()
    }
    fn ws(q: &[u32], c: &[u32], max_length: usize, stride: usize) -> Res<Vec<Window>> {
        windows(q, c, &offs(c.len()), 101, 102, max_length, stride)
    }

    #[test]
    fn answer_hash_is_fnv1a_as_in_python_and_go() {
        for (text, want) in [("", 0x811c_9dc5u32), ("a", 0xe40c_292c), ("France", 2_066_631_610), ("Norman–Arab–Byzantine", 420_619_710)]
        {
            assert_eq!(answer_hash(text), want, "{text}");
        }
    }

    #[test]
    fn windows_hand_worked() {
        // max_length 9, 2-token question: L = 9-2-3 = 4 context tokens per
        // window, step L-stride = 2: a-d, c-f, e-h, g-j (as HF's
        // truncation="only_second", stride=2 on "who is" / "a b c d e f g h i j").
        let w = ws(&[7, 8], &seq(1000, 10), 9, 2).unwrap();
        assert_eq!(w.len(), 4);
        assert_eq!(w[0].input_ids, vec![101, 7, 8, 102, 1000, 1001, 1002, 1003, 102]);
        assert_eq!(w[0].token_type_ids, vec![0, 0, 0, 0, 1, 1, 1, 1, 1]);
        assert_eq!(w[0].attention_mask, vec![1; 9]);
        assert_eq!(w[3].input_ids, vec![101, 7, 8, 102, 1006, 1007, 1008, 1009, 102]);
        for (i, win) in w.iter().enumerate() {
            assert_eq!(win.context_start, 4);
            assert_eq!(win.offsets, offs(10)[2 * i..2 * i + 4].to_vec());
        }
        // 9 tokens: the last window is short (g h i).
        let w = ws(&[7, 8], &seq(1000, 9), 9, 2).unwrap();
        assert_eq!(w.len(), 4);
        assert_eq!(w[3].input_ids, vec![101, 7, 8, 102, 1006, 1007, 1008, 102]);
        assert_eq!(w[3].offsets.len(), 3);
        // Short context: one window; empty context: one window, no context.
        let w = ws(&[7], &seq(1000, 3), 384, 128).unwrap();
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].input_ids, vec![101, 7, 102, 1000, 1001, 1002, 102]);
        let w = ws(&[7], &[], 384, 128).unwrap();
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].input_ids, vec![101, 7, 102, 102]);
        assert!(w[0].offsets.is_empty());
        // The question is cut to 64 tokens: L = 384-64-3 = 317.
        let w = ws(&seq(1, 100), &seq(1000, 400), 384, 128).unwrap();
        assert_eq!(w.len(), 2);
        assert_eq!(w[0].input_ids.len(), 384);
        assert_eq!(w[0].context_start, 66);
        assert_eq!(w[1].input_ids[66], 1000 + (317 - 128) as i64);
        assert_eq!(w[1].offsets.len(), 400 - 189);
        // Errors: no room for context; L <= stride.
        assert!(ws(&seq(1, 10), &seq(1000, 10), 12, 0).is_err());
        assert!(ws(&[7], &seq(1000, 10), 9, 5).is_err());
        assert!(ws(&[7], &seq(1000, 10), 9, 4).is_ok());
    }

    fn cat_window() -> (&'static str, Vec<Window>) {
        let context = "The cat sat on the mat";
        let o = vec![(0, 3), (4, 7), (8, 11), (12, 14), (15, 18), (19, 22)];
        let w = windows(&[7], &seq(1000, 6), &o, 101, 102, 64, 2).unwrap();
        assert_eq!(w.len(), 1);
        (context, w)
    }

    #[test]
    fn postprocess_known_span() {
        let (context, w) = cat_window();
        //            pos: CLS q  SEP The cat sat on the mat SEP
        let start = vec![0f32, 9., 9., 0., 5., 1., 0., 0., 2., 9.];
        let end = vec![0f32, 9., 9., 0., 1., 4., 0., 0., 6., 9.];
        // "cat".."mat" 5+6 = 11 beats "cat sat" 9 and "mat" 8; question and
        // [SEP] positions never count.
        let a = best_answer(context, &w, from_ref(&start), from_ref(&end), 20, 30).unwrap();
        assert_eq!(a.text, "cat sat on the mat");
        assert_eq!(a.best_score, 11.0);
        assert_eq!(a.null_score, 0.0);
        assert_eq!(a.best, Some((0, 1, 5)));
        // max_answer_length 2: "cat sat" (9) beats "mat" (8).
        assert_eq!(best_answer(context, &w, from_ref(&start), from_ref(&end), 20, 2).unwrap().text, "cat sat");
        // n_best 1: only start "cat" and end "mat".
        assert_eq!(best_answer(context, &w, from_ref(&start), from_ref(&end), 1, 30).unwrap().text, "cat sat on the mat");
        let a = best_answer(context, &w, from_ref(&start), from_ref(&end), 1, 4).unwrap();
        assert_eq!(a.text, "", "no candidate span");
        assert_eq!(a.best, None);
        assert_eq!(a.best_score, f64::NEG_INFINITY);
    }

    #[test]
    fn postprocess_null_answer() {
        let (context, w) = cat_window();
        let mut start = vec![0f32, 9., 9., 0., 5., 1., 0., 0., 2., 9.];
        let end = vec![0f32, 9., 9., 0., 1., 4., 0., 0., 6., 9.];
        // A null score equal to the best span's gives "" (strictly greater wins).
        start[0] = 11.0;
        let a = best_answer(context, &w, from_ref(&start), from_ref(&end), 20, 30).unwrap();
        assert_eq!(a.text, "");
        assert_eq!(a.null_score, 11.0);
        start[0] = 10.5;
        assert_eq!(best_answer(context, &w, &[start], &[end], 20, 30).unwrap().text, "cat sat on the mat");
    }

    #[test]
    fn postprocess_windows() {
        // Two windows of 4 context tokens; the best span is in window 1,
        // context tokens 4..5; the null score is the minimum over windows.
        let context = "a b c d e f";
        let o: Vec<(usize, usize)> = (0..6).map(|i| (2 * i, 2 * i + 1)).collect();
        let w = windows(&[7, 8], &seq(1000, 6), &o, 101, 102, 9, 2).unwrap();
        assert_eq!(w.len(), 2);
        let s0 = vec![1f32, 0., 0., 0., 2., 0., 0., 0., 0.];
        let e0 = vec![1f32, 0., 0., 0., 0., 2., 0., 0., 0.];
        let s1 = vec![5f32, 0., 0., 0., 0., 0., 3., 0., 0.];
        let e1 = vec![5f32, 0., 0., 0., 0., 0., 0., 3., 0.];
        let a = best_answer(context, &w, &[s0.clone(), s1.clone()], &[e0.clone(), e1.clone()], 20, 30).unwrap();
        assert_eq!(a.best, Some((1, 2, 3)));
        assert_eq!(a.best_score, 6.0);
        assert_eq!(a.null_score, 2.0);
        assert_eq!(a.text, "e f");
        // Ties: the earlier window wins (window 0 and 1 both hold c..d? make a tie).
        let t0 = vec![0f32, 0., 0., 0., 0., 0., 3., 0., 0.]; // window 0, context token 2 (c)
        let u0 = vec![0f32, 0., 0., 0., 0., 0., 0., 3., 0.]; // context token 3 (d)
        let t1 = vec![0f32, 0., 0., 0., 3., 0., 0., 0., 0.]; // window 1, context token 2 (c)
        let u1 = vec![0f32, 0., 0., 0., 0., 3., 0., 0., 0.]; // context token 3 (d)
        let a = best_answer(context, &w, &[t0, t1], &[u0, u1], 20, 30).unwrap();
        assert_eq!(a.best, Some((0, 2, 3)));
        assert_eq!(a.text, "c d");
        assert!(best_answer(context, &w, from_ref(&s0), from_ref(&e0), 20, 30).is_err(), "rows != windows");
        assert!(best_answer(context, &w, &[s0, s1[..3].to_vec()], &[e0, e1], 20, 30).is_err(), "short logits");
    }

    #[test]
    fn top_indices_ties() {
        let x = [5f32, 1., 3., 3., 9., 0., 3., 7.];
        assert_eq!(top_indices(&x, 0, 8, 3), vec![0, 4, 7]);
        assert_eq!(top_indices(&x, 0, 8, 5), vec![0, 2, 3, 4, 7], "ties: lower position first");
        assert_eq!(top_indices(&x, 1, 5, 3), vec![2, 3, 4]);
        assert_eq!(top_indices(&x, 1, 5, 20), vec![1, 2, 3, 4]);
        assert!(top_indices(&x, 3, 3, 5).is_empty());
    }

    #[test]
    fn normalize() {
        for (input, want) in [
            ("The  Cat, sat!", "cat sat"),
            ("an apple a day", "apple day"),
            ("Theater and anthem", "theater and anthem"),
            ("A-Team", "ateam"),
            ("the", ""),
            ("  Denver\tBroncos\n", "denver broncos"),
            ("a a the an", ""),
            ("Café À la carte", "café à la carte"),
            ("(the) 1,000 \"people\"", "1000 people"),
            ("éa a", "éa"),
        ] {
            assert_eq!(normalize_answer(input), want, "{input:?}");
        }
    }

    #[test]
    fn squad() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(squad_scores(&s(&["Denver Broncos", "Broncos"]), "the Broncos"), (1.0, 1.0));
        let (em, f) = squad_scores(&s(&["the cat sat"]), "cat sat on mat");
        assert_eq!(em, 0.0);
        assert!((f - 2.0 * 0.5 * 1.0 / 1.5).abs() < 1e-12);
        // Repeated tokens count with multiplicity.
        assert!((f1("cat cat", "cat cat cat") - 2.0 * (2.0 / 3.0) / (2.0 / 3.0 + 1.0)).abs() < 1e-12);
        // Unanswerable: gold [""]; only an empty prediction scores.
        assert_eq!(squad_scores(&[], ""), (1.0, 1.0));
        assert_eq!(squad_scores(&[], "something"), (0.0, 0.0));
        // Gold answers that normalise to "" are dropped.
        assert_eq!(squad_scores(&s(&["the", "."]), "").0, 1.0);
        assert_eq!(squad_scores(&s(&["Broncos"]), ""), (0.0, 0.0));
    }

    #[test]
    fn argmax_and_percentile() {
        assert_eq!(argmax(&[1., 3., 5., 2.]), 2);
        assert_eq!(argmax(&[1., 5., 5., 2.]), 1, "ties go to the lowest id");
        assert_eq!(argmax(&[f32::NAN, 1., 2.]), 2);
        assert_eq!(argmax(&[1., f32::NAN, 0.5]), 0);
        assert_eq!(argmax(&[-1.]), 0);
        // numpy: np.percentile([1, 2, 3, 4], [50, 90, 99]) = 2.5, 3.7, 3.97
        let v = [4.0, 1.0, 3.0, 2.0];
        assert!((percentile(&v, 50.0) - 2.5).abs() < 1e-12);
        assert!((percentile(&v, 90.0) - 3.7).abs() < 1e-12);
        assert!((percentile(&v, 99.0) - 3.97).abs() < 1e-12);
        assert_eq!(percentile(&[7.0], 99.0), 7.0);
    }
}
