"""Cityscapes with N random clicks per training image, and its dense val split.

Layout under ``root`` (usually ``$DETECTRON2_DATASETS/cityscapes``)::

    leftImg8bit/{train,val}/<city>/<frame>_leftImg8bit.png
    gtFine/{train,val}/<city>/<frame>_gtFine_labelTrainIds.png   train ids 0..18, 255 = void
    {20,50,100}clicks/train/<city>/<frame>_leftImg8bit.png       clicks (train ids), 255 elsewhere
    {20,50,100}clicks/train/image_classes.json                   {"<city>/<frame>": [train ids]}

``datasets_prep/cityscapes_clicks.py`` writes the train ids and the click folders, with each
frame's complete image-level label (its train ids, 255 excluded), which the click datasets
carry as ``image_classes`` (``MODEL.AGMM.ABSENT_FROM image_classes``).
"""
from pathlib import Path
from typing import Optional

from cityscapesscripts.helpers.labels import labels as _CITYSCAPES_LABELS

from .generic import register_sparse_sem_seg

_TRAIN_LABELS = sorted((l for l in _CITYSCAPES_LABELS if 0 <= l.trainId < 255), key=lambda l: l.trainId)
CITYSCAPES_CLASSES = [l.name for l in _TRAIN_LABELS]
CITYSCAPES_COLORS = [list(l.color) for l in _TRAIN_LABELS]
CITYSCAPES_DIRNAME = "cityscapes"
IMAGE_SUFFIX = "_leftImg8bit.png"
TRAIN_ID_SUFFIX = "_gtFine_labelTrainIds.png"
# The released recipe evaluates Cityscapes with windows of the training crop, 2/3 overlap.
SLIDING_WINDOW = {"crop_size": (721, 721), "overlap": 2 / 3}


def clicks_folder(clicks: int, seed: Optional[int] = None) -> str:
    """``50clicks`` or, with a seed, ``50clicks_seed0`` (what datasets_prep writes)."""
    return f"{clicks}clicks" + ("" if seed is None else f"_seed{seed}")


def _meta():
    return dict(classes=CITYSCAPES_CLASSES, colors=CITYSCAPES_COLORS, ignore_label=255,
                image_ext=IMAGE_SUFFIX, label_ext=TRAIN_ID_SUFFIX)


def register_cityscapes_clicks(name: str, root, clicks: int = 50, split: str = "train",
                               seed: Optional[int] = None, unlabeled_value: int = 255) -> None:
    """Register ``name``: Cityscapes ``split`` images with ``clicks`` clicks per image.

    Args:
        root: the cityscapes folder (layout in this module's docstring).
        seed: None reads ``<clicks>clicks/``; an int reads ``<clicks>clicks_seed<seed>/``.
    """
    root = Path(root)
    register_sparse_sem_seg(
        name, root / "leftImg8bit" / split, root / clicks_folder(clicks, seed) / split, None,
        sparse_ext=IMAGE_SUFFIX, unlabeled_value=unlabeled_value, **_meta())


def register_cityscapes_dense(name: str, root, split: str = "val") -> None:
    """Register ``name``: Cityscapes ``split`` with dense gtFine train ids, for evaluation."""
    root = Path(root)
    register_sparse_sem_seg(name, root / "leftImg8bit" / split, None, root / "gtFine" / split,
                            evaluation_sliding_window=SLIDING_WINDOW, **_meta())


def register_all_cityscapes(datasets_root) -> None:
    """``cityscapes_train_{20,50,100}clicks`` and ``cityscapes_val``."""
    root = Path(datasets_root) / CITYSCAPES_DIRNAME
    for clicks in (20, 50, 100):
        register_cityscapes_clicks(f"cityscapes_train_{clicks}clicks", root, clicks=clicks)
    register_cityscapes_dense("cityscapes_val", root, split="val")
