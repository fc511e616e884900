"""The one reader of label PNGs (sparse training labels, dense evaluation labels): class ids,
with their values checked and errors naming the file."""

from typing import Iterable, List

import numpy as np
from detectron2.utils.file_io import PathManager
from PIL import Image

__all__ = ["bad_label_values", "check_label_size", "check_label_values", "load_dense_label",
           "present_classes", "read_label"]


def read_label(path) -> np.ndarray:
    """(H, W) integer array of the class ids stored in the label file at ``path``.

    Palette PNGs (VOC ``SegmentationClass``) give their palette indices, which are the class
    ids; colour (RGB/RGBA) label images are refused, since their colours are not ids. Read
    through detectron2's PathManager, so remote paths work as in detectron2.
    """
    with PathManager.open(path, "rb") as f, Image.open(f) as im:
        if im.mode in ("RGB", "RGBA", "CMYK", "YCbCr", "LAB", "HSV", "LA", "PA"):
            raise ValueError(
                f"{path}: label image has mode {im.mode} ({len(im.getbands())} channels); "
                "expected a single-channel PNG of class ids (mode L, P or I). Colour-coded labels "
                "must be converted to class ids first.")
        label = np.asarray(im)
    if label.ndim != 2:
        raise ValueError(f"{path}: label array has shape {label.shape}; expected (H, W)")
    return label


def load_dense_label(filename: str, dtype=int) -> np.ndarray:
    """(H, W) label of ``dtype``, as SemSegEvaluator's ``sem_seg_loading_fn``: ``read_label``'s
    class ids (detectron2's default loader calls ``np.array(..., copy=False)``, which NumPy 2
    rejects)."""
    return read_label(filename).astype(dtype)


def present_classes(label: np.ndarray, ignore: Iterable[int] = (255,)) -> List[int]:
    """Sorted class ids that occur in ``label``, without the ``ignore`` (void) values."""
    ignore = set(int(i) for i in ignore)
    return [int(v) for v in np.flatnonzero(np.bincount(np.asarray(label).ravel()))
            if int(v) not in ignore]


def check_label_size(label: np.ndarray, height: int, width: int, path, image_path) -> None:
    """Raise ValueError unless ``label`` is (height, width), the size of the image."""
    if label.shape != (height, width):
        raise ValueError(
            f"{path}: label is {label.shape[1]}x{label.shape[0]} (WxH) but its image "
            f"{image_path} is {width}x{height}")


def bad_label_values(label: np.ndarray, num_classes: int, allowed: Iterable[int]) -> np.ndarray:
    """Sorted values of ``label`` that are neither a class id 0..K-1 nor in ``allowed``."""
    values = np.unique(label)
    outside = (values < 0) | (values >= num_classes)
    return values[outside & ~np.isin(values, list(allowed))]


def check_label_values(label: np.ndarray, num_classes: int, allowed: Iterable[int], path) -> None:
    """Raise ValueError if ``label`` holds a value outside 0..K-1 and ``allowed``."""
    allowed = sorted(set(int(a) for a in allowed))
    bad = bad_label_values(label, num_classes, allowed)
    if len(bad):
        raise ValueError(
            f"{path}: label values {bad.tolist()[:10]} are neither class ids 0..{num_classes - 1} "
            f"nor the unlabeled/ignore values {allowed}; check the dataset's number of classes "
            "(MODEL.SEM_SEG_HEAD.NUM_CLASSES) and its unlabeled_value")
