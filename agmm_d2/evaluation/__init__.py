"""Evaluation: what SemSegEvaluator does not do (checked labels, the IoU table) and evaluation
on the annotated pixels of sparse labels. The test-time inference (multi-scale + flip, sliding
window) is the model's: ``agmm_d2.modeling.test_time``."""
from .iou_table import RESULT_TABLES, format_iou_table, format_sparse_table
from .sem_seg_evaluator import CheckedSemSegEvaluator
from .sparse_evaluator import SPARSE_RESULT_KEY, SparseSemSegEvaluator, annotated_pixel_metrics

__all__ = ["CheckedSemSegEvaluator", "RESULT_TABLES", "SPARSE_RESULT_KEY",
           "SparseSemSegEvaluator", "annotated_pixel_metrics", "format_iou_table",
           "format_sparse_table"]
