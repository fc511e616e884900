"""Registration code for your own folder, for ``tools/train_net.py --register`` (or to import).

The built-in synthetic dataset (``make data``) stands in for your folder here: images in
``images/{train,val}/*.png``, dense masks in ``dense/{train,val}/*.png``, and 20 clicks per
training image made by

    python datasets_prep/make_clicks.py --dense datasets/agmm_synthetic/dense/train \
        --out-root output/my_data --clicks 20

Replace the paths, the extensions and the class names by yours. ``--register`` runs this file in
every process of a run, before the config is used.
"""
from pathlib import Path

from agmm_d2.data import datasets_root, register_sparse_sem_seg

CLASSES = ["background", "stripes", "checker", "dots", "grain", "waves"]
FOLDER = Path(datasets_root()) / "agmm_synthetic"

register_sparse_sem_seg("my_folder_train", FOLDER / "images" / "train",
                        sparse_root="output/my_data/20clicks_seed0", classes=CLASSES,
                        image_ext=".png")
register_sparse_sem_seg("my_folder_val", FOLDER / "images" / "val",
                        dense_root=FOLDER / "dense" / "val", classes=CLASSES, image_ext=".png")
