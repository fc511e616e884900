#!/usr/bin/env python
"""Turn any folder of dense label PNGs into a sparse benchmark of random clicks.

Either ``--clicks N`` pixels per image, drawn uniformly among annotatable pixels (some regions
get none), or ``--per-region K`` clicks inside every connected region of every class. Values
listed in ``--ignore`` are void: never clicked, and not classes. The output folder says how it
was made, e.g. ``50clicks_seed0`` or ``2clicks_per_region_r1_seed0``, and mirrors the input's
sub-folders and file names. Each file's clicks depend only on the seed and its name. Its
``image_classes.json`` lists the classes of each dense label (the image-level labels that
``MODEL.AGMM.ABSENT_FROM image_labels`` uses).

    python datasets_prep/make_clicks.py --dense data/masks --out-root data --clicks 50
    python datasets_prep/make_clicks.py --dense data/masks --out-root data --per-region 2 --radius 1
"""
import json
import sys
from pathlib import Path
from typing import Optional, Sequence

if not __package__:  # run as a file from the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from agmm_d2.data.sparsify import UNLABELED, random_clicks, region_clicks  # noqa: E402
from datasets_prep.common import parse_ignore, per_file_rng, sparsify_folder, tool_parser  # noqa: E402


def clicks_name(clicks: Optional[int], per_region: Optional[int], radius: int, seed: int) -> str:
    """Output folder name, e.g. ``50clicks_seed0`` or ``2clicks_per_region_r1_seed0``."""
    kind = f"{clicks}clicks" if clicks is not None else f"{per_region}clicks_per_region"
    return kind + (f"_r{radius}" if radius else "") + f"_seed{seed}"


def make_clicks(dense_dir, out_root, *, clicks: Optional[int] = None,
                per_region: Optional[int] = None, seed: int = 0, radius: int = 0,
                ignore: Sequence[int] = (UNLABELED,), suffix: str = ".png",
                overwrite: bool = False) -> Path:
    """Write ``<out_root>/<clicks_name(...)>/`` from every ``*<suffix>`` under ``dense_dir``.

    Exactly one of ``clicks`` (per image) and ``per_region`` is given. ``radius`` > 0 draws
    each click as a disk clipped to its region. ``image_classes.json`` gets the classes of each
    dense label, ``ignore`` values excluded. Returns the output folder.
    """
    if (clicks is None) == (per_region is None):
        raise ValueError("give exactly one of clicks (per image) and per_region")
    ignore = tuple(set(ignore) | {UNLABELED})  # 255 marks "not annotated" in the output
    out = Path(out_root) / clicks_name(clicks, per_region, radius, seed)

    def make_sparse(key, dense):
        rng = per_file_rng(seed, key)
        if clicks is not None:
            return random_clicks(dense, clicks, rng, ignore=ignore, radius=radius)
        return region_clicks(dense, per_region, rng, ignore=ignore, radius=radius)

    return sparsify_folder(dense_dir, out, make_sparse, suffix=suffix, ignore=ignore,
                           overwrite=overwrite)


def main(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument("--dense", type=Path, required=True, help="folder of dense label PNGs (class ids)")
    parser.add_argument("--out-root", type=Path, required=True, help="where the output folder is made")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--clicks", type=int, help="clicks per image")
    mode.add_argument("--per-region", type=int, help="clicks per connected region")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--radius", type=int, default=0, help="disk radius in pixels (0: one pixel)")
    parser.add_argument("--ignore", default="255",
                        help="comma-separated void values: never clicked, left out of "
                             "image_classes.json (default 255)")
    parser.add_argument("--suffix", default=".png", help="label file suffix (default .png)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output folder")
    args = parser.parse_args(argv)
    out = make_clicks(args.dense, args.out_root, clicks=args.clicks, per_region=args.per_region,
                      seed=args.seed, radius=args.radius, ignore=parse_ignore(args.ignore),
                      suffix=args.suffix, overwrite=args.overwrite)
    print(json.dumps({"folder": str(out)}))


if __name__ == "__main__":
    main()
