# Synthetic fixture for the report's tests (not measurements): dl/cnn with
# per-epoch series, llm/gpt2 with per-token phases, memory samples, a
# resumed result, a substitute dataset.
import json, random
rnd = random.Random(7)
host = {"cpu": "Test CPU @ 2.0GHz", "cores": 2, "mem_gib": 7.6, "os": "linux/amd64"}
def samples(base_mib, peak_mib, dur, n):
    out = []
    for i in range(n):
        t = dur * i / (n - 1)
        grow = min(1.0, t / (dur * 0.3))
        rss = (base_mib + (peak_mib - base_mib) * grow * (0.9 + 0.1 * rnd.random())) * (1 << 20)
        out.append({"t": round(t, 3), "rss": int(rss), "cpu_sec": round(t * 1.9, 3)})
    return out
def result(task, impl, lang, lv, fw, fv, phases, metrics, ref, **kw):
    r = {"schema_version": 1, "task": task, "variant": "", "impl": impl, "language": lang,
         "language_version": lv, "framework": fw, "framework_version": fv, "params": {},
         "threads": 2, "device": "cpu", "phases": phases, "metrics": metrics, "probes": {},
         "status": "ok", "size": "quick", "reference": ref, "host": host,
         "env": ["OMP_NUM_THREADS=2", "MKL_NUM_THREADS=2", "GOMAXPROCS=2"]}
    r.update(kw)
    return r
cifar = [{"name": "cifar10", "sha256": "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
          "official": False, "source": "mirror:cifar-10-python.tar.gz",
          "note": "Substitute: 2000 training images re-encoded. Not byte-identical to the official archive."}]
prompts = [{"name": "gpt2_prompts", "sha256": "9f1c" + "0" * 60, "official": True, "source": "package file"}]
def cnn(impl, lang, lv, fw, fv, epoch_s, loss0, acc, mem, **kw):
    loss = [round(loss0 * (0.8 ** e) + 0.02 * rnd.random(), 4) for e in range(6)]
    acc_s = [round(acc - 0.05 * (5 - e) / 5 + 0.003 * rnd.random(), 4) for e in range(6)]
    ph = {"load": [round(0.4 + 0.05 * rnd.random(), 3)],
          "train_epoch": [round(epoch_s * (1 + 0.04 * rnd.random()), 3) for _ in range(6)],
          "eval": [round(epoch_s * 0.1 * (1 + 0.04 * rnd.random()), 4) for _ in range(6)]}
    m = {"test_accuracy": acc_s[-1], "final_loss": loss[-1], "images_per_s": round(2000 / epoch_s, 1)}
    return result("dl/cnn", impl, lang, lv, fw, fv, ph, m, "python-pytorch", datasets=cifar,
                  series={"epoch_loss": loss, "epoch_test_accuracy": acc_s},
                  samples=samples(80, mem, epoch_s * 7, 60), peak_rss_bytes=int(mem * 1.02 * (1 << 20)),
                  parity={"ok": True, "checks": [{"name": "probe_max_abs:loss", "ok": True, "value": 1e-6, "limit": 1e-4}]}, **kw)
def gpt2(impl, lang, lv, fw, fv, tok_s, ttft_s, mem, **kw):
    per = [round(tok_s * (1 + 0.3 * rnd.random() ** 3), 6) for _ in range(15 * 20)]
    ttft = [round(ttft_s * (1 + 0.2 * rnd.random()), 5) for _ in range(15)]
    ph = {"load": [round(1.2 + 0.1 * rnd.random(), 3)], "tokenize": [round(3e-5 * (1 + rnd.random()), 7) for _ in range(15)],
          "ttft": ttft, "per_token": per}
    m = {"tokens_per_s": round(len(per) / (sum(per) + sum(ttft)), 2)}
    return result("llm/gpt2", impl, lang, lv, fw, fv, ph, m, "python-transformers", datasets=prompts,
                  samples=samples(300, mem, 12, 80), peak_rss_bytes=int(mem * (1 << 20)),
                  not_applicable={"perplexity": "random weights: perplexity needs trained weights"}, **kw)
out = {
 "dl_cnn_python-pytorch": cnn("python-pytorch", "python", "3.12.3", "torch", "2.11.0", 9.0, 2.1, 0.52, 900),
 "dl_cnn_go-libtorch": cnn("go-libtorch", "go", "go1.26.8", "libtorch", "2.11.0", 9.3, 2.1, 0.52, 700),
 "dl_cnn_rust-burn": cnn("rust-burn", "rust", "1.95.0", "burn", "0.18.0", 60.0, 2.1, 0.51, 1500,
     resumed_from="rep 1 of 1, epoch 4 of 6",
     earlier_parts=[{"started_at": "2026-11-29T10:00:00Z", "wall_seconds": 600, "cpu_seconds": 1190,
                     "peak_rss_bytes": 1400 << 20, "reason": "killed at the timeout (10m0s)"}]),
 "llm_gpt2_python-transformers": gpt2("python-transformers", "python", "3.12.3", "transformers", "4.57.1", 0.030, 0.045, 1100),
 "llm_gpt2_go-ort": gpt2("go-ort", "go", "go1.26.8", "onnxruntime", "1.30.0", 0.021, 0.030, 800),
 "llm_gpt2_rust-candle": gpt2("rust-candle", "rust", "1.95.0", "candle", "0.9.1", 0.026, 0.040, 900,
     parity={"ok": False, "checks": [{"name": "probe_max_abs:logits", "ok": False, "value": 0.031, "limit": 0.001}]}),
}
for name, r in out.items():
    with open(name + ".result.json", "w") as f:
        json.dump(r, f, indent=1)
        f.write("\n")
run = {"command": ["mlbench", "run", "--task", "dl/cnn,llm/gpt2", "--size", "quick"], "finished_at": "2026-11-29T12:00:00Z",
       "size": "quick", "threads": 2, "device": "cpu", "reps": 0, "warmup": -1, "timeout": "10m0s", "jobs": 6,
       "skipped": {"dl/cnn rust-tch": "Rust binary bin/cnn-tch not built"}, "host": host,
       "thread_env": ["OMP_NUM_THREADS=2", "MKL_NUM_THREADS=2", "GOMAXPROCS=2"],
       "parts": [{"command": ["mlbench", "run"], "finished_at": "2026-11-29T10:10:00Z", "size": "quick", "threads": 2,
                  "device": "cpu", "reps": 0, "warmup": -1, "timeout": "10m0s", "jobs": 6}]}
with open("run.json", "w") as f:
    json.dump(run, f, indent=1)
    f.write("\n")
