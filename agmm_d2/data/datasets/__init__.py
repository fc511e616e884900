"""Dataset registrations. Importing this package registers the built-in datasets."""
from . import builtin  # noqa: F401
from .builtin import datasets_root, register_all
from .cityscapes import (CITYSCAPES_CLASSES, CITYSCAPES_COLORS, register_cityscapes_clicks,
                         register_cityscapes_dense)
from .generic import DatasetLayoutError, load_sparse_sem_seg, register_sparse_sem_seg
from .idd_lite import IDD_LITE_CLASSES, IDD_LITE_COLORS, register_idd_lite
from .synthetic import register_synthetic
from .voc import VOC_CLASSES, VOC_COLORS, register_voc_sparse

__all__ = ["CITYSCAPES_CLASSES", "CITYSCAPES_COLORS", "DatasetLayoutError", "IDD_LITE_CLASSES",
           "IDD_LITE_COLORS", "VOC_CLASSES", "VOC_COLORS", "datasets_root", "load_sparse_sem_seg",
           "register_all", "register_cityscapes_clicks", "register_cityscapes_dense",
           "register_idd_lite", "register_sparse_sem_seg", "register_synthetic",
           "register_voc_sparse"]
