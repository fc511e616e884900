"""Reading dense evaluation labels for detectron2's SemSegEvaluator."""
import numpy as np
from detectron2.utils.file_io import PathManager
from PIL import Image

__all__ = ["load_dense_label"]


def load_dense_label(filename: str, dtype=int) -> np.ndarray:
    """(H, W) label image, as SemSegEvaluator's ``sem_seg_loading_fn``.

    detectron2's default loader calls ``np.array(..., copy=False)``, which NumPy 2 rejects.
    Reads through PathManager, so remote paths work as in detectron2.
    """
    with PathManager.open(filename, "rb") as f:
        return np.asarray(Image.open(f), dtype=dtype)
