"""Render the "What's the point" VOC clicks (JSON) into point label PNGs.

Each click becomes a disk of its class (radius 1 by default: 3 px across, as in the commonly
used point PNGs) in a single-channel PNG of its image's size, 255 elsewhere. Background clicks
come from the second JSON (class 0) and are drawn first, so object clicks win where they overlap.
The same from Python: ``agmm_d2.data.public.voc_points.render_points``.

    python datasets_prep/voc_points.py --voc-root datasets/VOC2012 \\
        --points voc_whats_the_point.json --background voc_whats_the_point_bg_from_scribbles.json
"""
import json
from pathlib import Path

from agmm_d2.cli.options import (
    PREP_ERRORS,
    add_output_argument,
    add_overwrite_argument,
    exit_status_of,
    tool_parser,
)
from agmm_d2.data.public.voc_points import render_points


def argument_parser():
    parser = tool_parser(__doc__)
    parser.add_argument("--voc-root", type=Path, required=True,
                        help="VOC2012 folder (reads JPEGImages/, writes point/ by default)")
    parser.add_argument("--points", type=Path, required=True, help="voc_whats_the_point.json")
    parser.add_argument(
        "--background",
        type=Path,
        help="background clicks JSON (voc_whats_the_point_bg_from_scribbles.json)",
    )
    parser.add_argument(
        "--radius",
        type=int,
        default=1,
        help="disk radius in pixels; 1 draws disks 3 px across (default), 0 single pixels",
    )
    add_output_argument(parser, "output folder (default: <voc-root>/point)", required=False,
                        type=Path)
    add_overwrite_argument(parser, "an existing output folder")
    return parser


def run(args) -> int:
    stats = render_points(
        args.points,
        args.output or args.voc_root / "point",
        args.voc_root / "JPEGImages",
        args.background,
        radius=args.radius,
        overwrite=args.overwrite,
    )
    print(json.dumps(stats))
    return 0


def main(argv=None) -> int:
    return exit_status_of("voc_points.py", run, argument_parser().parse_args(argv), PREP_ERRORS)
