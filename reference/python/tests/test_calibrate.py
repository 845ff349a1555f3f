import json
import math
import os
import subprocess
import sys

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "calibrate.py")


def calibrate(*args):
    return subprocess.run([sys.executable, SCRIPT, *args], check=False, capture_output=True, text=True)


def test_prints_a_measured_gemm_throughput():
    p = calibrate("--threads", "1", "--size", "64", "--repeats", "2")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["flop_per_s"] > 0 and math.isfinite(out["flop_per_s"])
    assert out["repeats"] == 2
    assert "mm 64x64 fp32, 1 threads" in out["kernel"]


def test_refuses_what_cannot_be_measured():
    p = calibrate("--threads", "1", "--size", "0")
    assert p.returncode == 2
    assert "must be positive" in p.stderr
