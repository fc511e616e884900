"""Clicks from any folder of dense labels: N per image, or K in every connected region."""
from pathlib import Path
from typing import Optional, Sequence

from .label_folders import per_file_rng, sparsify_folder
from .sparsify import UNLABELED, random_clicks, region_clicks

__all__ = ["clicks_name", "make_clicks"]


def clicks_name(clicks: Optional[int], per_region: Optional[int], radius: int, seed: int) -> str:
    """Output folder name, e.g. ``50clicks_seed0`` or ``2clicks_per_region_r1_seed0``."""
    kind = f"{clicks}clicks" if clicks is not None else f"{per_region}clicks_per_region"
    return kind + (f"_r{radius}" if radius else "") + f"_seed{seed}"


def make_clicks(dense_dir, out_root, *, clicks: Optional[int] = None,
                per_region: Optional[int] = None, seed: int = 0, radius: int = 0,
                ignore: Sequence[int] = (UNLABELED,), suffix: str = ".png",
                overwrite: bool = False) -> Path:
    """Write ``<out_root>/<clicks_name(...)>/`` from every ``*<suffix>`` under ``dense_dir``.

    Exactly one of ``clicks`` (per image, drawn uniformly among annotatable pixels: regions and
    whole classes may get none) and ``per_region`` (clicks inside every connected region) is
    given, at least 1. ``radius`` > 0 draws each click as a disk clipped to its region. The
    output mirrors the input's sub-folders and file names; each file's clicks depend only on
    the seed and its key. ``image_classes.json`` gets the classes of each dense label,
    ``ignore`` values excluded. Returns the output folder.
    """
    if (clicks is None) == (per_region is None):
        raise ValueError("give exactly one of clicks (per image) and per_region")
    for name, value in (("clicks", clicks), ("per_region", per_region), ("radius", radius)):
        if value is not None and value < (0 if name == "radius" else 1):
            raise ValueError(f"{name} is {value}; expected "
                             f"{'0 or more' if name == 'radius' else 'at least 1'}")
    ignore = tuple(set(ignore) | {UNLABELED})  # 255 marks "not annotated" in the output
    out = Path(out_root) / clicks_name(clicks, per_region, radius, seed)

    def make_sparse(key, dense):
        rng = per_file_rng(seed, key)
        if clicks is not None:
            return random_clicks(dense, clicks, rng, ignore=ignore, radius=radius)
        return region_clicks(dense, per_region, rng, ignore=ignore, radius=radius)

    return sparsify_folder(dense_dir, out, make_sparse, suffix=suffix, ignore=ignore,
                           overwrite=overwrite)
