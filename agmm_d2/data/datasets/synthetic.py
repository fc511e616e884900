"""Registration of the built-in synthetic dataset (agmm_d2/data/synthetic/generator.py makes its files)."""
from pathlib import Path

from ..synthetic.generator import CLASSES, COLORS, DIRNAME, SPARSE_KINDS
from .generic import register_sparse_sem_seg


def register_synthetic(root) -> None:
    """Register ``synthetic_{point,scribble,20clicks,5clicks,full}_train``, ``synthetic_val`` (the
    benchmarks' evaluation set) and ``synthetic_test`` (the demo's).

    The training sets carry complete image-level labels (``image_classes``) read from the
    dense labels, which the generator knows.

    ``root`` is the folder that holds ``agmm_synthetic/`` (usually DETECTRON2_DATASETS).
    """
    base = Path(root) / DIRNAME
    meta = dict(classes=CLASSES, colors=COLORS, image_ext=".png", label_ext=".png")
    for kind in SPARSE_KINDS + ("full",):
        name = f"synthetic_{kind.split('_seed')[0]}_train"
        sparse = base / ("dense" if kind == "full" else kind) / "train"
        register_sparse_sem_seg(name, base / "images" / "train", sparse, base / "dense" / "train",
                                image_classes="dense", **meta)
    for split in ("val", "test"):
        register_sparse_sem_seg(f"synthetic_{split}", base / "images" / split, None,
                                base / "dense" / split, **meta)
