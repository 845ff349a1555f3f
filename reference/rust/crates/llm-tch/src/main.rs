//! rust-tch: `llm-tch --spec SPEC.json` (docs/PROTOCOL.md, docs/LLM.md).

fn main() {
    mlbench_common::main_with(llm_tch::run);
}
