"""Turn any folder of dense label PNGs into simulated scribbles.

Each connected region of each class gets a thin line along its skeleton (``--width`` px,
inside the region); regions under ``--min-pixels`` get none; values in ``--ignore`` never get
one and are left out of ``image_classes.json`` (the classes of each dense label, the
image-level labels that ``MODEL.AGMM.ABSENT_FROM image_classes`` uses). The output folder says
how it was made (``scribbles_w3``) and mirrors the input's sub-folders and file names. The
result is deterministic. The same from Python: ``agmm_d2.data.sparse_labels.make_scribbles``.

    python datasets_prep/make_scribbles.py --dense data/masks --out-root data --width 3
"""
import json

from agmm_d2.cli.options import PREP_ERRORS, exit_status_of, sparse_label_tool_parser
from agmm_d2.data.sparse_labels import make_scribbles, parse_ignore


def argument_parser():
    parser = sparse_label_tool_parser(__doc__, "scribbled")
    parser.add_argument("--width", type=int, default=3, help="line width in pixels (default 3)")
    parser.add_argument("--min-pixels", type=int, default=16,
                        help="skip smaller regions (default 16)")
    return parser


def run(args) -> int:
    out = make_scribbles(args.dense, args.out_root, width=args.width, min_pixels=args.min_pixels,
                         ignore=parse_ignore(args.ignore), suffix=args.suffix,
                         overwrite=args.overwrite)
    print(json.dumps({"folder": str(out)}))
    return 0


def main(argv=None) -> int:
    return exit_status_of("make_scribbles.py", run, argument_parser().parse_args(argv),
                          PREP_ERRORS)
