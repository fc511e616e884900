"""Registers every built-in dataset under DETECTRON2_DATASETS when agmm_d2 is imported.

Registration only records paths; nothing on disk is read until a dataset is used.
"""
import os

from .synthetic import register_synthetic


def datasets_root() -> str:
    """The folder that holds the datasets: $DETECTRON2_DATASETS, default ./datasets.

    The only place in agmm_d2 that reads DETECTRON2_DATASETS.
    """
    return os.path.expanduser(os.getenv("DETECTRON2_DATASETS", "datasets"))


def register_all(root: str) -> None:
    register_synthetic(root)


if __name__.endswith(".builtin"):  # not when this file is run or imported under another name
    register_all(datasets_root())
