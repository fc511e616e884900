"""IDD-Lite (India Driving Dataset, lite version): real road scenes, 7 classes, with sparse labels
made from its dense ones by this project's tools.

Layout under ``root`` (usually ``$DETECTRON2_DATASETS/idd20k_lite``; 1,403 train / 204 val
photos of 320x227)::

    leftImg8bit/{train,val}/<n>/<id>_image.jpg
    gtFine/{train,val}/<n>/<id>_label.png           class ids 0..6, 255 = void
    sparse/<kind>/<n>/<id>_label.png                 sparse labels, 255 elsewhere, with
    sparse/<kind>/image_classes.json                 each image's classes (from gtFine)

The sparse folders are written by ``datasets_prep/make_clicks.py`` and ``make_scribbles.py``
(``benchmarks/real_photos.py`` runs them); the registration is the generic one, paired by the
``_image.jpg`` / ``_label.png`` suffixes. Its terms allow non-commercial research use only.
"""
from pathlib import Path

from .generic import register_sparse_sem_seg

IDD_LITE_DIRNAME = "idd20k_lite"
IDD_LITE_CLASSES = ["drivable", "non-drivable", "living things", "vehicles", "roadside objects",
                    "far objects", "sky"]
# Display colours (chosen here, after the Cityscapes colours of the nearest classes).
IDD_LITE_COLORS = [[128, 64, 128], [244, 35, 232], [220, 20, 60], [0, 0, 142], [153, 153, 153],
                   [70, 70, 70], [70, 130, 180]]
IMAGE_SUFFIX = "_image.jpg"
LABEL_SUFFIX = "_label.png"
# Registered name suffix -> sparse folder (how datasets_prep names what it made).
SPARSE_KINDS = {
    "5clicks": "5clicks_seed0",
    "20clicks": "20clicks_seed0",
    "100clicks": "100clicks_seed0",
    "points": "2clicks_per_region_r1_seed0",
    "scribbles": "scribbles_w3",
}


def register_idd_lite(name: str, root, split: str = "train", sparse: str = None) -> None:
    """Register ``name``: IDD-Lite ``split`` with the sparse labels of ``sparse/<sparse>/``, or
    with the dense labels when ``sparse`` is None (a training set then carries its image-level
    labels from them)."""
    root = Path(root)
    meta = dict(classes=IDD_LITE_CLASSES, colors=IDD_LITE_COLORS, image_ext=IMAGE_SUFFIX,
                label_ext=LABEL_SUFFIX)
    images, dense = root / "leftImg8bit" / split, root / "gtFine" / split
    if sparse is None:
        register_sparse_sem_seg(name, images, None, dense,
                                image_classes="dense" if split == "train" else None, **meta)
    else:
        register_sparse_sem_seg(name, images, root / "sparse" / sparse, dense, **meta)


def register_all_idd_lite(datasets_root) -> None:
    """``idd_lite_train_{5clicks,20clicks,100clicks,points,scribbles,dense}`` and
    ``idd_lite_val``."""
    root = Path(datasets_root) / IDD_LITE_DIRNAME
    for kind, folder in SPARSE_KINDS.items():
        register_idd_lite(f"idd_lite_train_{kind}", root, "train", folder)
    register_idd_lite("idd_lite_train_dense", root, "train")
    register_idd_lite("idd_lite_val", root, "val")
