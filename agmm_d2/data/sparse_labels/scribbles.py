"""Simulated scribbles from any folder of dense labels: a line along every region's skeleton."""
from pathlib import Path
from typing import Sequence

from .label_folders import sparsify_folder
from .sparsify import UNLABELED, scribbles

__all__ = ["make_scribbles"]


def make_scribbles(dense_dir, out_root, *, width: int = 3, min_pixels: int = 16,
                   ignore: Sequence[int] = (UNLABELED,), suffix: str = ".png",
                   overwrite: bool = False) -> Path:
    """Write ``<out_root>/scribbles_w<width>/`` from every ``*<suffix>`` under ``dense_dir``.

    Regions under ``min_pixels`` get no line. ``image_classes.json`` gets the classes of each
    dense label, ``ignore`` values excluded. Deterministic. Returns the output folder.
    """
    if width < 1:
        raise ValueError(f"width is {width}; expected at least 1 pixel")
    ignore = tuple(set(ignore) | {UNLABELED})
    out = Path(out_root) / f"scribbles_w{width}"
    return sparsify_folder(
        dense_dir,
        out,
        lambda key, dense: scribbles(
            dense, ignore=ignore, width=width, min_region_pixels=min_pixels
        ),
        suffix=suffix,
        ignore=ignore,
        overwrite=overwrite,
    )
