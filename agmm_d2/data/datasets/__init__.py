"""Dataset registrations. Importing this package registers the built-in datasets."""
from . import builtin  # noqa: F401
from .builtin import datasets_root
from .generic import DatasetLayoutError, load_sparse_sem_seg, register_sparse_sem_seg
from .synthetic import register_synthetic

__all__ = ["DatasetLayoutError", "datasets_root", "load_sparse_sem_seg",
           "register_sparse_sem_seg", "register_synthetic"]
