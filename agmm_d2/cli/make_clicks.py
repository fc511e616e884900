"""Turn any folder of dense label PNGs into a sparse benchmark of random clicks.

Either ``--clicks N`` pixels per image, drawn uniformly among annotatable pixels (some regions
get none), or ``--per-region K`` clicks inside every connected region of every class. Values
listed in ``--ignore`` are void: never clicked, and not classes. The output folder says how it
was made, e.g. ``50clicks_seed0`` or ``2clicks_per_region_r1_seed0``, and mirrors the input's
sub-folders and file names. Each file's clicks depend only on the seed and its name. Its
``image_classes.json`` lists the classes of each dense label (the image-level labels that
``MODEL.AGMM.ABSENT_FROM image_classes`` uses). The same from Python:
``agmm_d2.data.sparse_labels.make_clicks``.

    python datasets_prep/make_clicks.py --dense data/masks --out-root data --clicks 50
    python datasets_prep/make_clicks.py --dense data/masks --out-root data --per-region 2 --radius 1
"""
import json

from agmm_d2.cli.options import PREP_ERRORS, exit_status_of, sparse_label_tool_parser
from agmm_d2.data.sparse_labels import make_clicks, parse_ignore


def argument_parser():
    parser = sparse_label_tool_parser(__doc__, "clicked")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--clicks", type=int, help="clicks per image (at least 1)")
    mode.add_argument("--per-region", type=int, help="clicks per connected region (at least 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--radius", type=int, default=0,
                        help="disk radius in pixels (0: one pixel)")
    return parser


def run(args) -> int:
    out = make_clicks(args.dense, args.out_root, clicks=args.clicks, per_region=args.per_region,
                      seed=args.seed, radius=args.radius, ignore=parse_ignore(args.ignore),
                      suffix=args.suffix, overwrite=args.overwrite)
    print(json.dumps({"folder": str(out)}))
    return 0


def main(argv=None) -> int:
    return exit_status_of("make_clicks.py", run, argument_parser().parse_args(argv), PREP_ERRORS)
