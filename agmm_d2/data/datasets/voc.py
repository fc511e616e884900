"""PASCAL VOC 2012 with point, scribble or dense training labels, and its dense val split.

Layout under ``root`` (usually ``$DETECTRON2_DATASETS/VOC2012``)::

    JPEGImages/<id>.jpg
    SegmentationClass/<id>.png        VOC dense labels (palette PNG: ids 0..20, 255 = void)
    SegmentationClassAug/<id>.png     dense labels of train_aug (datasets_prep/voc_train_aug.py)
    point/<id>.png                    clicks as small disks (datasets_prep/voc_points.py)
    scribble/<id>.png                 3-px scribbles (datasets_prep/voc_scribbles.py)
    ImageSets/Segmentation/{train_aug,val}.txt   one image id per line
"""
from pathlib import Path
from typing import Optional

from .generic import default_colors, register_sparse_sem_seg

VOC_CLASSES = ["background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat",
               "chair", "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant",
               "sheep", "sofa", "train", "tvmonitor"]
VOC_COLORS = default_colors(len(VOC_CLASSES))  # the VOC colour map
VOC_DIRNAME = "VOC2012"
# Sparse label folder of each training kind; "full" trains on the dense labels.
_SPARSE_FOLDERS = {"point": "point", "scribble": "scribble", "full": None}


def _dense_folder(split: str) -> str:
    return "SegmentationClassAug" if split == "train_aug" else "SegmentationClass"


def register_voc_sparse(name: str, root, kind: Optional[str] = "point", split: str = "train_aug",
                        unlabeled_value: int = 255) -> None:
    """Register ``name``: VOC 2012 images of ``split`` with ``kind`` labels.

    Args:
        root: the VOC2012 folder (layout in this module's docstring).
        kind: "point", "scribble", "full" (dense labels as training labels), or None for an
            evaluation split with dense labels only.
        split: a list in ``ImageSets/Segmentation`` ("train_aug", "train", "val").
        unlabeled_value: "not annotated" in the sparse files (some released copies use 21).
    """
    if kind not in _SPARSE_FOLDERS and kind is not None:
        raise ValueError(f"register_voc_sparse({name!r}): kind={kind!r}; expected one of "
                         f"{sorted(_SPARSE_FOLDERS)} or None")
    root = Path(root)
    dense = root / _dense_folder(split)
    sparse = None
    if kind is not None:
        sparse = dense if _SPARSE_FOLDERS[kind] is None else root / _SPARSE_FOLDERS[kind]
    register_sparse_sem_seg(
        name, root / "JPEGImages", sparse, dense if kind in (None, "full") else None,
        classes=VOC_CLASSES, colors=VOC_COLORS, unlabeled_value=unlabeled_value,
        ignore_label=255, image_ext=".jpg", label_ext=".png",
        split_file=root / "ImageSets" / "Segmentation" / f"{split}.txt")


def register_all_voc(datasets_root) -> None:
    """``voc_2012_train_{point,scribble,full}`` (train_aug) and ``voc_2012_val``."""
    root = Path(datasets_root) / VOC_DIRNAME
    for kind in ("point", "scribble", "full"):
        register_voc_sparse(f"voc_2012_train_{kind}", root, kind=kind, split="train_aug")
    register_voc_sparse("voc_2012_val", root, kind=None, split="val")
