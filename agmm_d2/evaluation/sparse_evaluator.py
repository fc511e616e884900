"""Evaluation on the annotated pixels of sparse labels, for datasets with no dense labels.

A user with clicks and scribbles only holds some annotated images out; this scores the model
on the pixels those annotations mark, and nothing else. Its numbers are not dense mIoU: the
annotated pixels are where annotators click (object interiors, rarely boundaries), so they
are usually easier than the whole image. The results say so in their names
(``sparse_sem_seg`` / ``mIoU_annotated_pixels``) and the table in its title.
"""
import logging
import os
from collections import OrderedDict

import numpy as np
import torch
from detectron2.data import DatasetCatalog, MetadataCatalog
from detectron2.evaluation import DatasetEvaluator
from detectron2.utils.comm import all_gather, is_main_process, synchronize
from detectron2.utils.file_io import PathManager

from ..data.label_io import read_label

__all__ = ["SPARSE_RESULT_KEY", "SparseSemSegEvaluator", "annotated_pixel_metrics"]

SPARSE_RESULT_KEY = "sparse_sem_seg"

logger = logging.getLogger(__name__)


def annotated_pixel_metrics(confusion: np.ndarray, classes) -> "OrderedDict[str, float]":
    """Metrics of a (K, K) confusion matrix (rows: annotated class, columns: prediction) in %:
    ``mIoU_annotated_pixels`` and ``pixel_accuracy_annotated_pixels``; per class ``IoU-<c>``
    (NaN for a class with no annotated pixel, left out of the mean) and ``annotated_pixels-<c>``;
    ``annotated_pixels`` in all."""
    confusion = confusion.astype(np.float64)
    true_positive = np.diag(confusion)
    annotated, predicted = confusion.sum(1), confusion.sum(0)
    union = annotated + predicted - true_positive
    valid = annotated > 0
    iou = np.full(len(classes), np.nan)
    iou[valid] = true_positive[valid] / union[valid]
    total = confusion.sum()
    metrics = OrderedDict()
    metrics["mIoU_annotated_pixels"] = 100 * float(np.mean(iou[valid])) if valid.any() else np.nan
    metrics["pixel_accuracy_annotated_pixels"] = \
        100 * float(true_positive.sum() / total) if total else np.nan
    metrics["annotated_pixels"] = int(total)
    for i, name in enumerate(classes):
        metrics[f"IoU-{name}"] = 100 * float(iou[i])
        metrics[f"annotated_pixels-{name}"] = int(annotated[i])
    return metrics


class SparseSemSegEvaluator(DatasetEvaluator):
    """mIoU and pixel accuracy over the annotated pixels of a dataset's sparse labels.

    Each dataset dict's ``sparse_seg_file_name`` is read; pixels holding its
    ``sparse_unlabeled_value`` (or the ignore value 255) are not counted. Results:
    ``{"sparse_sem_seg": annotated_pixel_metrics(...)}``, also saved to
    ``<output_dir>/sparse_sem_seg_evaluation.pth``.
    """

    def __init__(self, dataset_name: str, distributed: bool = True, output_dir=None):
        self._dataset_name = dataset_name
        self._distributed = distributed
        self._output_dir = output_dir
        self._classes = list(MetadataCatalog.get(dataset_name).stuff_classes)
        self._sparse = {}
        for record in DatasetCatalog.get(dataset_name):
            if "sparse_seg_file_name" not in record:
                raise ValueError(f"{dataset_name}: {record['file_name']} has no sparse label to "
                                 "evaluate against")
            self._sparse[record["file_name"]] = (record["sparse_seg_file_name"],
                                                 record.get("sparse_unlabeled_value", 255))

    def reset(self):
        k = len(self._classes)
        self._confusion = np.zeros((k, k), np.int64)

    def process(self, inputs, outputs):
        """inputs: dataset dicts with ``file_name``; outputs: ``{"sem_seg": (K, H, W)}``."""
        k = len(self._classes)
        for record, output in zip(inputs, outputs):
            prediction = output["sem_seg"].argmax(dim=0).to("cpu").numpy()
            path, unlabeled = self._sparse[record["file_name"]]
            label = read_label(path).astype(np.int64)
            if label.shape != prediction.shape:
                raise ValueError(f"{path}: label is {label.shape[1]}x{label.shape[0]} (WxH), the "
                                 f"prediction {prediction.shape[1]}x{prediction.shape[0]}")
            annotated = (label != unlabeled) & (label != 255) & (label < k)
            self._confusion += np.bincount(
                k * label[annotated] + prediction[annotated], minlength=k * k).reshape(k, k)

    def evaluate(self):
        if self._distributed:
            synchronize()
            confusion = sum(all_gather(self._confusion))
            if not is_main_process():
                return None
        else:
            confusion = self._confusion
        if confusion.sum() == 0:
            logger.warning("%s: no annotated pixel to evaluate on", self._dataset_name)
        metrics = annotated_pixel_metrics(confusion, self._classes)
        if self._output_dir:
            PathManager.mkdirs(self._output_dir)
            with PathManager.open(os.path.join(self._output_dir,
                                               f"{SPARSE_RESULT_KEY}_evaluation.pth"), "wb") as f:
                torch.save(metrics, f)
        return OrderedDict({SPARSE_RESULT_KEY: metrics})
