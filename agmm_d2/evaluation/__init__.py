"""Evaluation: what SemSegEvaluator does not do (multi-scale + flip, sliding window)."""
from .test_time import SemSegInference, sliding_window, window_starts

__all__ = ["SemSegInference", "sliding_window", "window_starts"]
