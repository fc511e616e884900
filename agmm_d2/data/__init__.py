"""Data: dataset registrations (``datasets``), the training mapper, the one label-PNG reader
(``label_io``), making sparse labels (``sparse_labels``), public datasets' annotations
(``public``), labeling-tool importers (``annotations``), dataset checks (``checks``) and the
synthetic generator (``synthetic``)."""
from . import datasets  # noqa: F401  registers the built-in datasets
from .datasets import (
                       CITYSCAPES_CLASSES,
                       CITYSCAPES_COLORS,
                       VOC_CLASSES,
                       VOC_COLORS,
                       DatasetLayoutError,
                       datasets_root,
                       load_sparse_sem_seg,
                       register_all,
                       register_cityscapes_clicks,
                       register_cityscapes_dense,
                       register_sparse_sem_seg,
                       register_synthetic,
                       register_voc_sparse,
)
from .mapper import SparseSemSegDatasetMapper, build_sparse_train_augmentation

__all__ = ["CITYSCAPES_CLASSES", "CITYSCAPES_COLORS", "DatasetLayoutError",
           "SparseSemSegDatasetMapper", "VOC_CLASSES", "VOC_COLORS",
           "build_sparse_train_augmentation", "datasets_root", "load_sparse_sem_seg",
           "register_all", "register_cityscapes_clicks", "register_cityscapes_dense",
           "register_sparse_sem_seg", "register_synthetic", "register_voc_sparse"]
