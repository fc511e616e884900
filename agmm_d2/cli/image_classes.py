"""Write image_classes.json, the complete image-level labels, from dense labels or VOC XML.

The file is a JSON object ``{image key: [class ids present in the image]}``, the key being the
label's path relative to its folder without the suffix (the key datasets are paired by). A
registration reads it next to the sparse labels (``image_classes="auto"``, the default), and
``MODEL.AGMM.ABSENT_FROM image_classes`` uses it. The click and scribble generators and
voc_train_aug.py write it themselves; this tool is for folders made otherwise, e.g. a
downloaded ``SegmentationClassAug`` (the VOC training sets then read its JSON instead of
every PNG at each load), or VOC point labels without dense ones (from ``Annotations/*.xml``:
each <object>'s class, plus background, present in practically every VOC image). The same
from Python: ``agmm_d2.data.sparse_labels.image_classes``.

    python datasets_prep/image_classes.py --dense datasets/VOC2012/SegmentationClassAug
    python datasets_prep/image_classes.py --voc-xml datasets/VOC2012/Annotations \\
        --output datasets/VOC2012/point
    python datasets_prep/image_classes.py --dense data/masks --ignore 0,255 \\
        --output data/50clicks_seed0
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
from agmm_d2.data.sparse_labels import parse_ignore, write_image_classes
from agmm_d2.data.sparse_labels.image_classes import dense_image_classes, xml_image_classes


def argument_parser():
    parser = tool_parser(__doc__)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--dense", type=Path, help="folder of dense label PNGs (class ids)")
    source.add_argument("--voc-xml", type=Path, help="VOC Annotations/ folder of <id>.xml")
    add_output_argument(parser, "folder that gets image_classes.json (default: the --dense "
                                "folder; required with --voc-xml)", required=False, type=Path)
    parser.add_argument("--ignore", default="255",
                        help="with --dense: comma-separated void values, not classes (default 255)")
    parser.add_argument(
        "--suffix", default=".png", help="with --dense: label file suffix (default .png)"
    )
    add_overwrite_argument(parser, "an existing image_classes.json")
    return parser


def run(args) -> int:
    if args.dense is not None:
        table = dense_image_classes(args.dense, parse_ignore(args.ignore), args.suffix)
    else:
        table = xml_image_classes(args.voc_xml)
    path = write_image_classes(args.output or args.dense, table, overwrite=args.overwrite)
    print(json.dumps({"file": str(path), "images": len(table)}))
    return 0


def main(argv=None) -> int:
    parser = argument_parser()
    args = parser.parse_args(argv)
    if args.voc_xml is not None and args.output is None:
        parser.error("--voc-xml needs --output (the sparse label folder, e.g. VOC2012/point)")
    return exit_status_of("image_classes.py", run, args, PREP_ERRORS)
