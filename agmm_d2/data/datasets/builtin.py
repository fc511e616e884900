"""Registers every built-in dataset under DETECTRON2_DATASETS when agmm_d2 is imported.

Registration only records paths; nothing on disk is read until a dataset is used.
"""
import os

from .cityscapes import register_all_cityscapes
from .idd_lite import register_all_idd_lite
from .synthetic import register_synthetic
from .voc import register_all_voc


def datasets_root() -> str:
    """The folder that holds the datasets: $DETECTRON2_DATASETS, default ./datasets.

    The only place in agmm_d2 that reads DETECTRON2_DATASETS.
    """
    return os.path.expanduser(os.getenv("DETECTRON2_DATASETS", "datasets"))


def register_all(root: str) -> None:
    """Register every built-in dataset under ``root`` (replacing earlier entries of the same name)."""
    register_synthetic(root)
    register_all_voc(root)
    register_all_cityscapes(root)
    register_all_idd_lite(root)


if __name__.endswith(".builtin"):  # not when this file is run or imported under another name
    register_all(datasets_root())
