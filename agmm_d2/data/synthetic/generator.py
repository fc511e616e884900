"""A deterministic synthetic sparse-label dataset: textured shapes on a textured background.

Classes differ by texture *and* colour statistics, with colours that overlap between classes,
so that no single flat colour gives a pixel's class away. Each image holds 1-3 objects over a
background. Written under ``<root>/agmm_synthetic/``:

    images/{train,val,test}/NNNN.png   RGB images
    dense/{train,val,test}/NNNN.png    dense class ids (evaluation, full supervision)
    point/train/NNNN.png               2 clicks (3-px disks) in every region, 255 elsewhere
    scribble/train/NNNN.png            3-px lines along each region's skeleton, 255 elsewhere
    20clicks_seed0/train/NNNN.png      20 single-pixel clicks per image, anywhere
    5clicks_seed0/train/NNNN.png       5 single-pixel clicks per image: some classes get none
    .complete                          written last: the parameters of the finished dataset
"""
import json
from pathlib import Path

import cv2
import numpy as np
from scipy import ndimage

from ...utils.atomic import atomic_write
from ..sparse_labels.sparsify import random_clicks, region_clicks, scribbles

CLASSES = ["background", "stripes", "checker", "dots", "grain", "waves"]
COLORS = [[0, 0, 0], [220, 60, 60], [60, 180, 75], [70, 90, 220], [230, 190, 40], [170, 80, 200]]
# Mean RGB of each class's two texture colours; per-region draws spread +-SPREAD around it.
_COLOR_MEANS = np.array([[120, 120, 120], [170, 95, 95], [95, 150, 100],
                         [100, 110, 165], [160, 145, 90], [145, 100, 155]], np.float32)
_SPREAD = 35.0
SPARSE_KINDS = ("point", "scribble", "20clicks_seed0", "5clicks_seed0")
DIRNAME = "agmm_synthetic"
FORMAT_VERSION = 2


def _pattern(cls: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """(size, size) texture of class ``cls`` in [0, 1] with random frequency, angle and phase."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    theta = rng.uniform(0, np.pi)
    u = xx * np.cos(theta) + yy * np.sin(theta)
    v = -xx * np.sin(theta) + yy * np.cos(theta)
    phase = rng.uniform(0, 2 * np.pi)
    if cls == 0:  # smooth, low-frequency blotches
        p = ndimage.gaussian_filter(rng.standard_normal((size, size)), sigma=8)
        p = (p - p.min()) / (np.ptp(p) + 1e-6)
    elif cls == 1:  # straight stripes
        f = rng.uniform(0.15, 0.25)
        p = 0.5 + 0.5 * np.sin(2 * np.pi * f * u + phase)
    elif cls == 2:  # checkerboard
        f = rng.uniform(0.07, 0.12)
        p = (np.sin(2 * np.pi * f * u + phase) * np.sin(2 * np.pi * f * v) > 0).astype(np.float32)
    elif cls == 3:  # dots on a lattice
        f = rng.uniform(0.12, 0.18)
        p = ((np.cos(2 * np.pi * f * u + phase) + np.cos(2 * np.pi * f * v)) > 1.2).astype(
            np.float32
        )
    elif cls == 4:  # fine grain
        p = rng.uniform(0, 1, (size, size))
    else:  # wavy lines
        f, g = rng.uniform(0.12, 0.2), rng.uniform(0.03, 0.06)
        p = 0.5 + 0.5 * np.sin(2 * np.pi * f * u + 4 * np.sin(2 * np.pi * g * v) + phase)
    return p.astype(np.float32)


def _texture(cls: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """(size, size, 3) float RGB: the class pattern blended between two class-coloured draws."""
    c1 = _COLOR_MEANS[cls] + rng.uniform(-_SPREAD, _SPREAD, 3)
    c2 = c1 + rng.choice([-1, 1]) * rng.uniform(40, 80) * rng.uniform(0.6, 1.0, 3)
    t = _pattern(cls, size, rng)[..., None]
    return c1 * (1 - t) + c2 * t


def _shape_mask(size: int, rng: np.random.Generator) -> np.ndarray:
    """(size, size) bool mask of a random ellipse, rotated rectangle or star-like polygon."""
    mask = np.zeros((size, size), np.uint8)
    cx, cy = rng.uniform(0.2 * size, 0.8 * size, 2)
    kind = rng.integers(3)
    if kind == 0:
        axes = (int(rng.uniform(0.1, 0.3) * size), int(rng.uniform(0.1, 0.3) * size))
        cv2.ellipse(mask, (int(cx), int(cy)), axes, rng.uniform(0, 180), 0, 360, 1, -1)
    elif kind == 1:
        w, h = rng.uniform(0.15, 0.5, 2) * size
        box = cv2.boxPoints(((cx, cy), (w, h), rng.uniform(0, 180)))
        cv2.fillPoly(mask, [box.astype(np.int32)], 1)
    else:
        n = rng.integers(5, 9)
        angles = np.sort(rng.uniform(0, 2 * np.pi, n))
        radii = rng.uniform(0.1, 0.3, n) * size
        pts = np.stack([cx + radii * np.cos(angles), cy + radii * np.sin(angles)], 1)
        cv2.fillPoly(mask, [pts.astype(np.int32)], 1)
    return mask.astype(bool)


def make_sample(seed: int, size: int = 128):
    """One image and its dense label, a pure function of ``seed``.

    Returns:
        image (ndarray): (size, size, 3) uint8 RGB.
        dense (ndarray): (size, size) uint8 class ids 0..len(CLASSES)-1.
    """
    rng = np.random.default_rng(seed)
    dense = np.zeros((size, size), np.uint8)
    image = _texture(0, size, rng)
    for _ in range(rng.integers(1, 4)):
        cls = int(rng.integers(1, len(CLASSES)))
        mask = _shape_mask(size, rng)
        image[mask] = _texture(cls, size, rng)[mask]
        dense[mask] = cls
    image += rng.normal(0, 6, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8), dense


def _sparse_labels(dense: np.ndarray, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return {
        "point": region_clicks(dense, 2, rng, radius=1),
        "scribble": scribbles(dense, width=3),
        "20clicks_seed0": random_clicks(dense, 20, rng),
        # Drawn after the others, so that adding it left their labels unchanged.
        "5clicks_seed0": random_clicks(dense, 5, rng),
    }


def _write_png(path: Path, array: np.ndarray):
    if array.ndim == 3:
        array = cv2.cvtColor(array, cv2.COLOR_RGB2BGR)
    if not cv2.imwrite(str(path), array):
        raise OSError(f"could not write {path}")


def generate(root, *, seed: int = 0, n_train: int = 300, n_val: int = 100, n_test: int = 1000,
             size: int = 128, force: bool = False) -> Path:
    """Write the synthetic dataset under ``<root>/agmm_synthetic`` and return that folder.

    ``val`` is the evaluation set of the benchmarks; ``test``, ten times larger, is the demo's:
    on 100 images a model's mistakes on a few large regions move its mIoU by a point or more,
    which made up part of the demo's seed-to-seed spread (docs/demo.md).

    Idempotent: an existing, complete dataset made with the same parameters is kept as is.
    The dataset is written to a temporary folder and renamed into place when complete, so an
    interrupted run never leaves a half-written dataset behind.
    """
    root = Path(root).expanduser()
    out = root / DIRNAME
    params = {"version": FORMAT_VERSION, "seed": seed, "n_train": n_train, "n_val": n_val,
              "n_test": n_test, "size": size}
    stamp = out / ".complete"
    if not force and stamp.is_file() and json.loads(stamp.read_text()) == params:
        return out
    with atomic_write(out, folder=True) as tmp:
        splits = (("train", n_train, 0), ("val", n_val, 1_000_000), ("test", n_test, 2_000_000))
        for split, count, offset in splits:
            folders = ["images", "dense"] + (list(SPARSE_KINDS) if split == "train" else [])
            for folder in folders:
                (tmp / folder / split).mkdir(parents=True)
            for i in range(count):
                sample_seed = seed * 10_000_019 + offset + i
                image, dense = make_sample(sample_seed, size)
                name = f"{i:04d}.png"
                _write_png(tmp / "images" / split / name, image)
                _write_png(tmp / "dense" / split / name, dense)
                if split == "train":
                    for kind, sparse in _sparse_labels(dense, sample_seed).items():
                        _write_png(tmp / kind / split / name, sparse)
        (tmp / ".complete").write_text(json.dumps(params))
    return out
