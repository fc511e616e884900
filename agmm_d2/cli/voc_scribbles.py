"""Render the ScribbleSup VOC scribbles (one XML per image) into scribble label PNGs.

ScribbleSup XML: an <annotation> with <filename>, <size><width>/<height>, and one <polygon> per
scribble holding <tag>class name</tag> and its <point><X>..</X><Y>..</Y></point> in drawing
order. Each scribble becomes a polyline of its class, 3 px wide, 255 elsewhere; "background"
is class 0. The same from Python: ``agmm_d2.data.public.voc_scribbles.render_scribbles``.

    python datasets_prep/voc_scribbles.py --voc-root datasets/VOC2012 \\
        --xml-dir ScribbleAnnotation/pascal_2012
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
from agmm_d2.data.public.voc_scribbles import render_scribbles


def argument_parser():
    parser = tool_parser(__doc__)
    parser.add_argument(
        "--voc-root",
        type=Path,
        required=True,
        help="VOC2012 folder (reads JPEGImages/, writes scribble/ by default)",
    )
    parser.add_argument("--xml-dir", type=Path, required=True, help="folder of ScribbleSup *.xml")
    parser.add_argument(
        "--thickness", type=int, default=3, help="line width in pixels, odd (default 3)"
    )
    add_output_argument(parser, "output folder (default: <voc-root>/scribble)", required=False,
                        type=Path)
    add_overwrite_argument(parser, "an existing output folder")
    return parser


def run(args) -> int:
    stats = render_scribbles(args.xml_dir, args.output or args.voc_root / "scribble",
                             args.voc_root / "JPEGImages", thickness=args.thickness,
                             overwrite=args.overwrite)
    print(json.dumps(stats))
    return 0


def main(argv=None) -> int:
    return exit_status_of("voc_scribbles.py", run, argument_parser().parse_args(argv),
                          PREP_ERRORS)
