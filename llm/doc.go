// Package llm is the pure-Go core of the llm/bert-qa and llm/gpt2 tasks
// (docs/LLM.md), shared by every Go implementation of them: the SQuAD
// windows, answer post-processing and EM/F1, the one greedy generation loop,
// and the workloads (warm-up, timed passes, metrics, probes) around two small
// interfaces that a backend implements — QAModel (start/end logits of one
// window) and CausalLM (one decoding step with a KV cache). It mirrors
// reference/rust/crates/llm-common and depends on no native library:
// go-ort (internal/impls/goort) and go-libtorch (internal/impls/golibtorch)
// each only adapt their runtime to the interfaces.
package llm
