"""benchmarks/predict_backends.py: the three backends measured in one process, and its table."""
import pytest

from agmm_benchmarks.predict_backends import format_table, measure
from agmm_d2.engine import build_config

DEMO = "configs/synthetic/demo.yaml"
# The demo's architecture, narrower (as tests/export/test_export.py); its initial weights: the
# speed does not depend on their values.
TINY = {"MODEL.RESNETS.WIDTH_PER_GROUP": 4, "MODEL.RESNETS.RES2_OUT_CHANNELS": 16,
        "MODEL.RESNETS.STEM_OUT_CHANNELS": 8}


def test_throughput_benchmark_measures_three_backends():
    pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (the [export] extra)")
    rates = measure(build_config(DEMO, TINY), 40, 56, count=2, runs=2)
    assert list(rates) == ["torch", "torchscript", "onnxruntime"]
    assert all(len(v) == 2 and min(v) > 0 for v in rates.values())
    table = format_table({"torch": [1.0, 2.0, 3.0], "onnxruntime": [5.0, 4.0, 6.0]}, 40, 56)
    assert "| torch | 2.00 | 1.00x |" in table and "| onnxruntime | 5.00 | 2.50x |" in table
