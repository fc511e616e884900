"""Registration of the built-in synthetic dataset (agmm_d2/data/synthetic/generator.py makes
its files)."""
from pathlib import Path

from ..synthetic.generator import CLASSES, COLORS, DIRNAME, SPARSE_KINDS
from .generic import register_sparse_sem_seg

# Label folder of the generator -> the labels part of the registered name.
LABELS = {"point": "points", "scribble": "scribbles", "20clicks_seed0": "20clicks",
          "5clicks_seed0": "5clicks", "dense": "dense"}


def register_synthetic(root) -> None:
    """Register ``synthetic_train_{points,scribbles,20clicks,5clicks,dense}``, ``synthetic_val``
    (the benchmarks' evaluation set) and ``synthetic_test`` (the demo's).

    The training sets carry complete image-level labels (``image_classes``) read from the
    dense labels, which the generator knows.

    ``root`` is the folder that holds ``agmm_synthetic/`` (usually DETECTRON2_DATASETS).
    """
    base = Path(root) / DIRNAME
    meta = dict(classes=CLASSES, colors=COLORS, image_ext=".png", label_ext=".png")
    for folder in SPARSE_KINDS + ("dense",):
        register_sparse_sem_seg(f"synthetic_train_{LABELS[folder]}", base / "images" / "train",
                                base / folder / "train", base / "dense" / "train",
                                image_classes="dense", **meta)
    for split in ("val", "test"):
        register_sparse_sem_seg(f"synthetic_{split}", base / "images" / split, None,
                                base / "dense" / split, **meta)
