"""Data: dataset registrations, sparse-label tools and the training mapper."""
from . import datasets  # noqa: F401  registers the built-in datasets
from .datasets import (DatasetLayoutError, datasets_root, load_sparse_sem_seg,
                       register_sparse_sem_seg, register_synthetic)
from .sparse_mapper import SparseSemSegDatasetMapper, build_sparse_train_augmentation

__all__ = ["DatasetLayoutError", "SparseSemSegDatasetMapper", "build_sparse_train_augmentation",
           "datasets_root", "load_sparse_sem_seg", "register_sparse_sem_seg", "register_synthetic"]
