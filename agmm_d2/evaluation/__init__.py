"""Evaluation: what SemSegEvaluator does not do (checked labels, multi-scale + flip, sliding
window, a NumPy-2-safe label loader, the IoU table) and evaluation on the annotated pixels of
sparse labels."""
from .dense_labels import load_dense_label
from .iou_table import RESULT_TABLES, format_iou_table, format_sparse_table
from .sem_seg_evaluator import CheckedSemSegEvaluator
from .sparse_evaluator import SPARSE_RESULT_KEY, SparseSemSegEvaluator, annotated_pixel_metrics
from .test_time import SemSegInference, sliding_window, window_starts

__all__ = ["CheckedSemSegEvaluator", "RESULT_TABLES", "SPARSE_RESULT_KEY",
           "SemSegInference", "SparseSemSegEvaluator", "annotated_pixel_metrics",
           "format_iou_table", "format_sparse_table", "load_dense_label", "sliding_window",
           "window_starts"]
