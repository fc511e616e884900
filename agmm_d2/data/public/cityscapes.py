"""Cityscapes: gtFine train ids from label ids, and N random clicks per training image.

``trainids`` writes ``<frame>_gtFine_labelTrainIds.png`` next to each ``*_gtFine_labelIds.png``
(cityscapesscripts' label table maps the ids; cityscapesscripts' own createTrainIdLabelImgs
does the same from the polygon JSON files, which this tool does not need).
``clicks`` writes ``<N>clicks_seed<S>/<split>/<city>/<frame>_leftImg8bit.png``: N pixels drawn
uniformly among the pixels of the 19 classes, each labelled with its train id, 255 elsewhere.
Each image's clicks depend only on the seed and its name. ``<split>/image_classes.json`` lists
each frame's train ids (255 excluded): complete image-level labels, which the registration
reads for ``MODEL.AGMM.ABSENT_FROM image_classes``. ``--alias`` also links ``<N>clicks`` (the
name the built-in datasets read) to that folder.

The command: ``datasets_prep/cityscapes_clicks.py`` (``agmm_d2.cli.cityscapes_clicks``).
"""
from pathlib import Path
from typing import Dict

import numpy as np
from cityscapesscripts.helpers.labels import labels as CITYSCAPES_LABELS

from agmm_d2.data.datasets.cityscapes import IMAGE_SUFFIX, TRAIN_ID_SUFFIX, clicks_folder
from agmm_d2.data.label_io import present_classes, read_label
from agmm_d2.data.sparse_labels.sparsify import random_clicks
from agmm_d2.utils.atomic import atomic_write

from ..sparse_labels.label_folders import (
    dense_files,
    link_alias,
    per_file_rng,
    write_image_classes,
    write_label_png,
)

LABEL_ID_SUFFIX = "_gtFine_labelIds.png"
IGNORE = 255


def _id_to_train_id() -> np.ndarray:
    """(256,) uint8 lookup: official label id -> train id, 255 for ids not trained on."""
    table = np.full(256, IGNORE, np.uint8)
    for label in CITYSCAPES_LABELS:
        if 0 <= label.id < 256:
            table[label.id] = label.trainId if 0 <= label.trainId < IGNORE else IGNORE
    return table


ID_TO_TRAIN_ID = _id_to_train_id()


def label_ids_to_train_ids(label_ids: np.ndarray) -> np.ndarray:
    """(H, W) official Cityscapes label ids -> (H, W) uint8 train ids 0..18 and 255."""
    return ID_TO_TRAIN_ID[np.asarray(label_ids, np.int64).clip(0, 255)]


def make_train_ids(root, split: str = "train", out_root=None, *, overwrite: bool = False) -> int:
    """Write ``*_gtFine_labelTrainIds.png`` for every ``*_gtFine_labelIds.png`` of ``split``.

    Reads ``<root>/gtFine/<split>``, writes under ``<out_root or root>/gtFine/<split>``.
    Existing train-id files are an error (FileExistsError) unless ``overwrite``.
    Returns the number of files written.
    """
    out_root = Path(out_root or root)
    files = dense_files(Path(root) / "gtFine" / split, LABEL_ID_SUFFIX)
    if not files:
        raise FileNotFoundError(f"{Path(root) / 'gtFine' / split}: no *{LABEL_ID_SUFFIX} file")
    existing = [key for key, _ in files
                if (out_root / "gtFine" / split / f"{key}{TRAIN_ID_SUFFIX}").exists()]
    if existing and not overwrite:
        raise FileExistsError(f"{len(existing)} of {len(files)} *{TRAIN_ID_SUFFIX} files exist "
                              f"under {out_root / 'gtFine' / split}; pass --overwrite to replace "
                              "them")
    for key, path in files:
        train_ids = label_ids_to_train_ids(read_label(path))
        write_label_png(out_root / "gtFine" / split / f"{key}{TRAIN_ID_SUFFIX}", train_ids)
    return len(files)


def _train_ids(gt_dir: Path, key: str) -> np.ndarray:
    """Train ids of frame ``key``: its labelTrainIds file, else converted from its labelIds."""
    path = gt_dir / f"{key}{TRAIN_ID_SUFFIX}"
    if path.is_file():
        return read_label(path)
    return label_ids_to_train_ids(read_label(gt_dir / f"{key}{LABEL_ID_SUFFIX}"))


def make_clicks(root, clicks: int = 50, seed: int = 0, split: str = "train", out_root=None, *,
                alias: bool = False, overwrite: bool = False) -> Dict[str, object]:
    """Write ``<out_root or root>/<clicks>clicks_seed<seed>/<split>/`` for every frame.

    The split folder also gets ``image_classes.json``: each frame's train ids, 255 excluded.
    Returns {"folder": output folder, "images": count, "clicks": total clicks written}.
    """
    if clicks < 1:
        raise ValueError(f"--clicks {clicks}: expected at least 1 click per image")
    out_root = Path(out_root or root)
    gt_dir = Path(root) / "gtFine" / split
    keys = sorted({k for suffix in (LABEL_ID_SUFFIX, TRAIN_ID_SUFFIX)
                   for k, _ in dense_files(gt_dir, suffix)})
    if not keys:
        raise FileNotFoundError(f"{gt_dir}: no *{TRAIN_ID_SUFFIX} or *{LABEL_ID_SUFFIX} file")
    out = out_root / clicks_folder(clicks, seed)
    total, image_classes = 0, {}
    with atomic_write(out / split, folder=True, overwrite=overwrite) as tmp:
        for key in keys:
            train_ids = _train_ids(gt_dir, key)
            sparse = random_clicks(train_ids, clicks, per_file_rng(seed, key), ignore=(IGNORE,))
            total += int((sparse != IGNORE).sum())
            write_label_png(tmp / f"{key}{IMAGE_SUFFIX}", sparse)
            image_classes[key] = present_classes(train_ids, (IGNORE,))
        write_image_classes(tmp, image_classes)
    if alias:
        link_alias(out_root / clicks_folder(clicks), out)
    return {"folder": str(out), "images": len(keys), "clicks": total}
