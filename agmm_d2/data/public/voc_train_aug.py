"""Make VOC 2012 ``train_aug``: SBD train+val and VOC train, minus VOC val (10,582 images).

Writes ``SegmentationClassAug/<id>.png`` (class ids, VOC palette) and
``ImageSets/Segmentation/train_aug.txt``. An image's label is VOC's own ``SegmentationClass``
PNG where VOC has one (it marks object borders 255), else SBD's ``cls/<id>.mat``.
``SegmentationClassAug/image_classes.json`` lists each image's classes (255 excluded): the
image-level labels that the VOC training sets read for ``MODEL.AGMM.ABSENT_FROM image_classes``.

The command: ``datasets_prep/voc_train_aug.py`` (``agmm_d2.cli.voc_train_aug``).
"""
from pathlib import Path
from typing import Dict, List

import numpy as np
from scipy.io import loadmat

from agmm_d2.data.datasets.generic import read_split_keys as read_split
from agmm_d2.data.label_io import present_classes, read_label
from agmm_d2.utils.atomic import atomic_write

from ..sparse_labels.label_folders import write_image_classes, write_label_png


def train_aug_ids(sbd_train, sbd_val, voc_train, voc_val) -> List[str]:
    """Sorted (SBD train ∪ SBD val ∪ VOC train) − VOC val."""
    return sorted((set(sbd_train) | set(sbd_val) | set(voc_train)) - set(voc_val))


def sbd_label(mat_path) -> np.ndarray:
    """(H, W) uint8 class ids of an SBD ``cls/*.mat`` file (GTcls.Segmentation)."""
    mat = loadmat(mat_path, squeeze_me=True, struct_as_record=False)
    return np.asarray(mat["GTcls"].Segmentation, np.uint8)


def make_train_aug(voc_root, sbd_root, *, overwrite: bool = False) -> Dict[str, int]:
    """Write SegmentationClassAug/ (with its image_classes.json) and the train_aug split.

    ``sbd_root`` is SBD's ``dataset`` folder (``train.txt``, ``val.txt``, ``cls/``). Returns
    counts: images, from_voc, from_sbd.
    """
    voc_root, sbd_root = Path(voc_root), Path(sbd_root)
    sets = voc_root / "ImageSets" / "Segmentation"
    if (sets / "train_aug.txt").exists() and not overwrite:
        raise FileExistsError(f"{sets / 'train_aug.txt'} exists; pass --overwrite to replace it")
    ids = train_aug_ids(read_split(sbd_root / "train.txt"), read_split(sbd_root / "val.txt"),
                        read_split(sets / "train.txt"), read_split(sets / "val.txt"))
    stats = {"images": len(ids), "from_voc": 0, "from_sbd": 0}
    image_classes = {}
    with atomic_write(voc_root / "SegmentationClassAug", folder=True, overwrite=overwrite) as tmp:
        for key in ids:
            voc_png = voc_root / "SegmentationClass" / f"{key}.png"
            if voc_png.is_file():
                label, stats["from_voc"] = read_label(voc_png), stats["from_voc"] + 1
            else:
                mat = sbd_root / "cls" / f"{key}.mat"
                if not mat.is_file():
                    raise FileNotFoundError(f"{key}: neither {voc_png} nor {mat} exists")
                label, stats["from_sbd"] = sbd_label(mat), stats["from_sbd"] + 1
            write_label_png(tmp / f"{key}.png", label, palette=True)
            image_classes[key] = present_classes(label, (255,))
        write_image_classes(tmp, image_classes)
    with atomic_write(sets / "train_aug.txt") as tmp:
        tmp.write_text("".join(f"{k}\n" for k in ids))
    return stats
