#!/usr/bin/env python
"""Turn any folder of dense label PNGs into simulated scribbles.

Each connected region of each class gets a thin line along its skeleton (``--width`` px,
inside the region); regions under ``--min-pixels`` get none; values in ``--ignore`` never get
one and are left out of ``image_classes.json`` (the classes of each dense label, the
image-level labels that ``MODEL.AGMM.ABSENT_FROM image_labels`` uses). The output folder says
how it was made (``scribbles_w3``) and mirrors the input's sub-folders and file names. The
result is deterministic.

    python datasets_prep/make_scribbles.py --dense data/masks --out-root data --width 3
"""
import json
import sys
from pathlib import Path
from typing import Sequence

if not __package__:  # run as a file from the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from agmm_d2.data.sparsify import UNLABELED, scribbles  # noqa: E402
from datasets_prep.common import parse_ignore, sparsify_folder, tool_parser  # noqa: E402


def make_scribbles(dense_dir, out_root, *, width: int = 3, min_pixels: int = 16,
                   ignore: Sequence[int] = (UNLABELED,), suffix: str = ".png",
                   overwrite: bool = False) -> Path:
    """Write ``<out_root>/scribbles_w<width>/`` from every ``*<suffix>`` under ``dense_dir``.

    ``image_classes.json`` gets the classes of each dense label, ``ignore`` values excluded.
    """
    ignore = tuple(set(ignore) | {UNLABELED})
    out = Path(out_root) / f"scribbles_w{width}"
    return sparsify_folder(
        dense_dir, out,
        lambda key, dense: scribbles(dense, ignore=ignore, width=width, min_region_pixels=min_pixels),
        suffix=suffix, ignore=ignore, overwrite=overwrite)


def main(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument("--dense", type=Path, required=True, help="folder of dense label PNGs (class ids)")
    parser.add_argument("--out-root", type=Path, required=True, help="where the output folder is made")
    parser.add_argument("--width", type=int, default=3, help="line width in pixels (default 3)")
    parser.add_argument("--min-pixels", type=int, default=16, help="skip smaller regions (default 16)")
    parser.add_argument("--ignore", default="255",
                        help="comma-separated void values: never scribbled, left out of "
                             "image_classes.json (default 255)")
    parser.add_argument("--suffix", default=".png", help="label file suffix (default .png)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output folder")
    args = parser.parse_args(argv)
    out = make_scribbles(args.dense, args.out_root, width=args.width, min_pixels=args.min_pixels,
                         ignore=parse_ignore(args.ignore), suffix=args.suffix, overwrite=args.overwrite)
    print(json.dumps({"folder": str(out)}))


if __name__ == "__main__":
    main()
