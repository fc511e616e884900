"""Evaluation: what SemSegEvaluator does not do (checked labels, multi-scale + flip, sliding
window, a NumPy-2-safe label loader, the IoU table)."""
from .dense_labels import load_dense_label
from .iou_table import format_iou_table
from .sem_seg_evaluator import CheckedSemSegEvaluator
from .test_time import SemSegInference, sliding_window, window_starts

__all__ = [
    "CheckedSemSegEvaluator",
    "SemSegInference",
    "format_iou_table",
    "load_dense_label",
    "sliding_window",
    "window_starts",
]
