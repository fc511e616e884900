"""Turn a dense label map into sparse labels: random clicks, clicks per region, scribbles.

Every function takes a dense (H, W) integer label map and returns a uint8 (H, W) sparse label:
the class id where annotated, ``unlabeled`` elsewhere. A pixel is only ever annotated with its
own dense class, and classes listed in ``ignore`` are never annotated.
"""
from typing import Iterable, Optional

import cv2
import numpy as np
from scipy import ndimage
from skimage.morphology import skeletonize

from ..label_io import present_classes

UNLABELED = 255


def _annotatable(dense: np.ndarray, ignore: Iterable[int]) -> np.ndarray:
    return ~np.isin(dense, list(ignore))


def _regions(dense: np.ndarray, ignore: Iterable[int]):
    """Yield (class_id, (H, W) bool mask) for each 8-connected region of each class."""
    for cls in present_classes(dense, ignore):
        labelled, n = ndimage.label(dense == cls, structure=np.ones((3, 3), bool))
        for i in range(1, n + 1):
            yield int(cls), labelled == i


def _stamp_disks(sparse, dense, ys, xs, radius):
    """Draw a disk of each click's dense class, clipped to pixels of that same class."""
    for y, x in zip(ys, xs):
        cls = int(dense[y, x])
        disk = np.zeros(dense.shape, np.uint8)
        cv2.circle(disk, (int(x), int(y)), int(radius), 1, thickness=-1)
        sparse[(disk > 0) & (dense == cls)] = cls


def random_clicks(dense: np.ndarray, n_clicks: int, rng: np.random.Generator, *,
                  ignore: Iterable[int] = (UNLABELED,), radius: int = 0,
                  unlabeled: int = UNLABELED) -> np.ndarray:
    """``n_clicks`` pixels drawn uniformly without replacement among annotatable pixels.

    Some regions (even whole classes) may receive no click: this is the "N clicks per image"
    protocol of the Cityscapes benchmarks.
    """
    sparse = np.full(dense.shape, unlabeled, np.uint8)
    ys, xs = np.nonzero(_annotatable(dense, ignore))
    if len(ys) == 0:
        return sparse
    pick = rng.choice(len(ys), size=min(n_clicks, len(ys)), replace=False)
    _stamp_disks(sparse, dense, ys[pick], xs[pick], radius)
    return sparse


def region_clicks(dense: np.ndarray, clicks_per_region: int, rng: np.random.Generator, *,
                  ignore: Iterable[int] = (UNLABELED,), radius: int = 1,
                  min_region_pixels: int = 1, unlabeled: int = UNLABELED) -> np.ndarray:
    """``clicks_per_region`` clicks inside every connected region of every class.

    Clicks prefer pixels away from the region's border (inside its erosion when that is not
    empty), as a person clicking on an object would. Regions smaller than
    ``min_region_pixels`` are skipped.
    """
    sparse = np.full(dense.shape, unlabeled, np.uint8)
    for _, mask in _regions(dense, ignore):
        if mask.sum() < min_region_pixels:
            continue
        inner = ndimage.binary_erosion(mask, iterations=max(radius, 1))
        ys, xs = np.nonzero(inner if inner.any() else mask)
        pick = rng.choice(len(ys), size=min(clicks_per_region, len(ys)), replace=False)
        _stamp_disks(sparse, dense, ys[pick], xs[pick], radius)
    return sparse


def scribbles(dense: np.ndarray, rng: Optional[np.random.Generator] = None, *,
              ignore: Iterable[int] = (UNLABELED,), width: int = 3,
              min_region_pixels: int = 16, unlabeled: int = UNLABELED) -> np.ndarray:
    """A thin line along the skeleton of every connected region, ``width`` pixels wide.

    The skeleton is taken of the region shrunk by half the width, so the drawn line stays
    inside the region. ``rng`` is accepted for a uniform interface; the result is deterministic.
    """
    del rng
    sparse = np.full(dense.shape, unlabeled, np.uint8)
    half = width // 2
    for cls, mask in _regions(dense, ignore):
        if mask.sum() < min_region_pixels:
            continue
        core = ndimage.binary_erosion(mask, iterations=half) if half else mask
        if not core.any():
            core = mask
        line = skeletonize(core)
        if half:
            line = ndimage.binary_dilation(line, iterations=half) & mask
        sparse[line] = cls
    return sparse
