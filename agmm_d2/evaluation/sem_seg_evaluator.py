"""SemSegEvaluator whose result cannot be silently wrong because of a label value."""
import logging
import os

import numpy as np
import torch
from detectron2.evaluation import SemSegEvaluator
from detectron2.utils.comm import all_gather, is_main_process
from detectron2.utils.file_io import PathManager

from ..config import check_choice
from ..data.label_io import load_dense_label

__all__ = ["CheckedSemSegEvaluator"]

logger = logging.getLogger(__name__)


class CheckedSemSegEvaluator(SemSegEvaluator):
    """detectron2's SemSegEvaluator with checked dense labels.

    detectron2's evaluator counts a label value that is neither a class id nor the ignore value
    as some other cell of the confusion matrix, without a word. Here such a value stops
    evaluation with the file's name (``out_of_range="error"``), or its pixels are counted as
    ignored and the count is logged (``"ignore"``). The results also hold ``ignored_pixels``
    (all pixels not evaluated), ``out_of_range_pixels`` and ``labelled_pixels``.
    """

    def __init__(self, dataset_name, distributed=True, output_dir=None, *,
                 out_of_range: str = "error"):
        check_choice("TEST.OUT_OF_RANGE_LABELS", out_of_range)
        super().__init__(dataset_name, distributed, output_dir,
                         sem_seg_loading_fn=self._load_checked)
        self._out_of_range = out_of_range

    def reset(self):
        super().reset()
        self._counts = np.zeros(3, np.int64)  # ignored, out of range, all pixels

    def _load_checked(self, filename: str, dtype=int) -> np.ndarray:
        gt = load_dense_label(filename, dtype)
        bad = (gt != self._ignore_label) & ((gt < 0) | (gt >= self._num_classes))
        if bad.any():
            values = np.unique(gt[bad]).tolist()
            if self._out_of_range == "error":
                raise ValueError(
                    f"{filename}: dense label values {values[:10]} are neither class ids "
                    f"0..{self._num_classes - 1} nor the ignore value {self._ignore_label}; "
                    "fix the labels, or count them as ignored with "
                    "TEST.OUT_OF_RANGE_LABELS ignore")
            gt[bad] = self._ignore_label
        self._counts += [int((gt == self._ignore_label).sum()), int(bad.sum()), gt.size]
        return gt

    def evaluate(self):
        counts = sum(all_gather(self._counts)) if self._distributed else self._counts
        results = super().evaluate()
        if results is None or not is_main_process():
            return results
        ignored, out_of_range, pixels = (int(c) for c in counts)
        metrics = results["sem_seg"]
        metrics.update(ignored_pixels=ignored, out_of_range_pixels=out_of_range,
                       labelled_pixels=pixels)
        if out_of_range:
            logger.warning("%s: %d pixels hold label values outside the classes and the ignore "
                           "value; they were counted as ignored (TEST.OUT_OF_RANGE_LABELS ignore)",
                           self._dataset_name, out_of_range)
        if self._output_dir:  # the saved metrics say the same as the returned ones
            with PathManager.open(os.path.join(self._output_dir, "sem_seg_evaluation.pth"),
                                  "wb") as f:
                torch.save(metrics, f)
        return results
