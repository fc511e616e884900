"""Turn a LabelMe, CVAT or Label Studio export into sparse labels and check it registers.

Rasterises the export's shapes into <export name>_sparse/ beside it (or --output): one PNG of
class ids per image (255 = not annotated), mirroring the images' names, with
image_classes.json and import.json (options, counts, warnings). Points become disks, lines
strokes, polygons, ellipses and masks filled regions; boxes are skipped unless --boxes fill.
docs/annotations.md has the conventions of each tool. The same from Python:
``agmm_d2.data.annotations.register_annotations``, which training scripts call directly.

    python datasets_prep/import_annotations.py --format cvat --images photos \\
        --export annotations.xml --classes classes.txt --holdout 0.2
"""
import json
from pathlib import Path

from detectron2.data import DatasetCatalog  # after agmm_d2, which quiets detectron2's warnings

from agmm_d2.cli.options import PREP_ERRORS, add_output_argument, exit_status_of, tool_parser
from agmm_d2.data.annotations import FORMATS, annotations_folder, register_annotations


def argument_parser():
    parser = tool_parser(__doc__)
    parser.add_argument("--format", choices=sorted(FORMATS),
                        help="the export's tool (default: recognised from the file)")
    parser.add_argument("--images", type=Path, required=True, help="folder of the images")
    parser.add_argument("--export", type=Path, required=True,
                        help="LabelMe folder or JSON, CVAT for images 1.1 XML, Label Studio JSON")
    parser.add_argument("--classes", required=True,
                        help="class names in id order: a file (one a line) if it exists, "
                             "else a comma-separated list")
    add_output_argument(parser, "output folder (default <export>_sparse)", required=False,
                        type=Path)
    parser.add_argument("--name", default="annotations", help="dataset name to check with")
    parser.add_argument("--holdout", type=float, default=0.0,
                        help="fraction of annotated images held out for evaluation")
    parser.add_argument("--seed", type=int, default=0, help="seed of the held-out draw")
    parser.add_argument("--point-radius", type=int, default=2, help="disk radius of a point, px")
    parser.add_argument("--line-width", type=int, default=3, help="stroke width of a line, px")
    parser.add_argument("--boxes", choices=("skip", "fill"), default="skip")
    parser.add_argument("--overlap", choices=("smaller", "later"), default="smaller",
                        help="which shape wins where two overlap")
    parser.add_argument("--mask-threshold", type=int, default=128,
                        help="a brush/mask pixel counts from this value on (1..255)")
    return parser


def run(args) -> int:
    classes = args.classes if Path(args.classes).is_file() else args.classes.split(",")
    names = register_annotations(
        args.name, args.images, args.export, classes, format=args.format, output=args.output,
        holdout=args.holdout, seed=args.seed, point_radius=args.point_radius,
        line_width=args.line_width, boxes=args.boxes, overlap=args.overlap,
        mask_threshold=args.mask_threshold)
    folder = args.output or annotations_folder(args.export)
    report = json.loads((folder / "import.json").read_text())
    print(json.dumps({"folder": str(folder), "datasets": {n: len(DatasetCatalog.get(n))
                                                           for n in names},
                      "shapes": report["shapes"], "warnings": len(report["warnings"])}))
    return 0


def main(argv=None) -> int:
    return exit_status_of("import_annotations.py", run, argument_parser().parse_args(argv),
                          PREP_ERRORS)
