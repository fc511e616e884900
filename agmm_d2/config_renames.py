"""Config files and dataset names renamed in the layout of configs by dataset, with the one
function for each that upgrades an old name (used by ``build_config`` and the tools'
``--dataset``). Old names keep working for one release, each with a one-line note naming the
new one; docs/configs.md lists both tables (a test compares them with these).
"""
import os
from pathlib import Path
from typing import Dict, Optional, Tuple

__all__ = ["RENAMED_CONFIGS", "RENAMED_DATASETS", "renamed_config", "upgrade_dataset_name"]

# {old path: new path}, relative to configs/ (which was one flat folder).
RENAMED_CONFIGS: Dict[str, str] = {
    "Base-Cityscapes.yaml": "cityscapes/Base-Cityscapes.yaml",
    "Base-IDD-Lite.yaml": "idd_lite/Base-IDD-Lite.yaml",
    "Base-Synthetic.yaml": "synthetic/Base-Synthetic.yaml",
    "Base-VOC.yaml": "voc/Base-VOC.yaml",
    "cityscapes_100clicks_baseline.yaml": "cityscapes/100clicks_baseline.yaml",
    "cityscapes_100clicks.yaml": "cityscapes/100clicks_released.yaml",
    "cityscapes_100clicks_robust.yaml": "cityscapes/100clicks_robust.yaml",
    "cityscapes_20clicks_baseline.yaml": "cityscapes/20clicks_baseline.yaml",
    "cityscapes_20clicks.yaml": "cityscapes/20clicks_released.yaml",
    "cityscapes_20clicks_robust.yaml": "cityscapes/20clicks_robust.yaml",
    "cityscapes_50clicks_baseline.yaml": "cityscapes/50clicks_baseline.yaml",
    "cityscapes_50clicks.yaml": "cityscapes/50clicks_released.yaml",
    "cityscapes_50clicks_robust.yaml": "cityscapes/50clicks_robust.yaml",
    "idd_lite_20clicks_baseline.yaml": "idd_lite/20clicks_baseline.yaml",
    "idd_lite_20clicks_baseline_balanced.yaml": "idd_lite/20clicks_baseline_balanced.yaml",
    "idd_lite_20clicks_pairwise.yaml": "idd_lite/20clicks_baseline_pairwise.yaml",
    "idd_lite_20clicks.yaml": "idd_lite/20clicks_released.yaml",
    "idd_lite_20clicks_robust.yaml": "idd_lite/20clicks_robust.yaml",
    "idd_lite_20clicks_balanced.yaml": "idd_lite/20clicks_robust_balanced.yaml",
    "idd_lite_20clicks_robust_pairwise.yaml": "idd_lite/20clicks_robust_pairwise.yaml",
    "idd_lite_full.yaml": "idd_lite/dense.yaml",
    "idd_lite_points_baseline.yaml": "idd_lite/points_baseline.yaml",
    "idd_lite_points_baseline_balanced.yaml": "idd_lite/points_baseline_balanced.yaml",
    "idd_lite_points_pairwise.yaml": "idd_lite/points_baseline_pairwise.yaml",
    "idd_lite_points.yaml": "idd_lite/points_released.yaml",
    "idd_lite_points_robust.yaml": "idd_lite/points_robust.yaml",
    "idd_lite_points_balanced.yaml": "idd_lite/points_robust_balanced.yaml",
    "idd_lite_points_robust_pairwise.yaml": "idd_lite/points_robust_pairwise.yaml",
    "idd_lite_scribbles_baseline.yaml": "idd_lite/scribbles_baseline.yaml",
    "idd_lite_scribbles_baseline_balanced.yaml": "idd_lite/scribbles_baseline_balanced.yaml",
    "idd_lite_scribbles_pairwise.yaml": "idd_lite/scribbles_baseline_pairwise.yaml",
    "idd_lite_scribbles.yaml": "idd_lite/scribbles_released.yaml",
    "idd_lite_scribbles_robust.yaml": "idd_lite/scribbles_robust.yaml",
    "idd_lite_scribbles_balanced.yaml": "idd_lite/scribbles_robust_balanced.yaml",
    "idd_lite_scribbles_robust_pairwise.yaml": "idd_lite/scribbles_robust_pairwise.yaml",
    "synthetic_20clicks_baseline.yaml": "synthetic/20clicks_baseline.yaml",
    "synthetic_20clicks.yaml": "synthetic/20clicks_released.yaml",
    "synthetic_20clicks_robust.yaml": "synthetic/20clicks_robust.yaml",
    "synthetic_5clicks_baseline.yaml": "synthetic/5clicks_baseline.yaml",
    "synthetic_5clicks.yaml": "synthetic/5clicks_released.yaml",
    "synthetic_5clicks_robust.yaml": "synthetic/5clicks_robust.yaml",
    "synthetic_demo.yaml": "synthetic/demo.yaml",
    "synthetic_full.yaml": "synthetic/dense.yaml",
    "synthetic_point_baseline.yaml": "synthetic/points_baseline.yaml",
    "synthetic_point.yaml": "synthetic/points_released.yaml",
    "synthetic_point_robust.yaml": "synthetic/points_robust.yaml",
    "synthetic_scribble_baseline.yaml": "synthetic/scribbles_baseline.yaml",
    "synthetic_scribble.yaml": "synthetic/scribbles_released.yaml",
    "synthetic_scribble_robust.yaml": "synthetic/scribbles_robust.yaml",
    "voc_point_baseline.yaml": "voc/points_baseline.yaml",
    "voc_point.yaml": "voc/points_released.yaml",
    "voc_scribble_baseline.yaml": "voc/scribbles_baseline.yaml",
    "voc_scribble.yaml": "voc/scribbles_released.yaml",
}

# {old name: new name} of the built-in datasets: <dataset>_<split>[_<labels>]. VOC's evaluation
# set is voc_2012_val_dense because detectron2 registers voc_2012_val (its detection set).
RENAMED_DATASETS: Dict[str, str] = {
    "synthetic_point_train": "synthetic_train_points",
    "synthetic_scribble_train": "synthetic_train_scribbles",
    "synthetic_20clicks_train": "synthetic_train_20clicks",
    "synthetic_5clicks_train": "synthetic_train_5clicks",
    "synthetic_full_train": "synthetic_train_dense",
    "voc_2012_train_point": "voc_2012_train_points",
    "voc_2012_train_scribble": "voc_2012_train_scribbles",
    "voc_2012_train_full": "voc_2012_train_dense",
    "voc_2012_val": "voc_2012_val_dense",
    "idd_lite_train_full": "idd_lite_train_dense",
}

# The folder of this repository's configs, recognised by the file every config builds on.
_ROOT_CONFIG = "Base-AGMM-DeepLabV3Plus.yaml"


def renamed_config(path) -> Tuple[Optional[str], str]:
    """(the new path, a note) for a config ``path`` that does not exist but was renamed: a
    file of RENAMED_CONFIGS in a ``configs/`` folder of this project, however the path reaches
    it; (None, "") otherwise."""
    path = Path(path)
    configs = path.parent
    if path.exists() or configs.name != "configs" or not (configs / _ROOT_CONFIG).is_file():
        return None, ""
    new = RENAMED_CONFIGS.get(path.name)
    if new is None:
        return None, ""
    new_path = os.path.join(str(configs), new)
    return new_path, f"{path} is now {new_path}; using it (update the path)"


def upgrade_dataset_name(name: str) -> Tuple[str, str]:
    """(the current name, a note) of dataset ``name``: a renamed built-in name gives its new
    name and a note; any other name is returned as it is, with an empty note."""
    new = RENAMED_DATASETS.get(name)
    if new is None:
        return name, ""
    return new, f"dataset {name!r} is now called {new!r}; using it (update the name)"
