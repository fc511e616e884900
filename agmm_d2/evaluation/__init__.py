"""Evaluation: only what detectron2's SemSegEvaluator does not do (multi-scale + flip, sliding window)."""
from .test_time import TestTimeInference, sliding_window, window_starts

__all__ = ["TestTimeInference", "sliding_window", "window_starts"]
