"""Cityscapes: gtFine train ids from label ids, and N random clicks per training image.

``trainids`` writes ``<frame>_gtFine_labelTrainIds.png`` next to each ``*_gtFine_labelIds.png``
(cityscapesscripts' label table maps the ids; cityscapesscripts' own createTrainIdLabelImgs
does the same from the polygon JSON files, which this tool does not need).
``clicks`` writes ``<N>clicks_seed<S>/<split>/<city>/<frame>_leftImg8bit.png``: N pixels drawn
uniformly among the pixels of the 19 classes, each labelled with its train id, 255 elsewhere.
Each image's clicks depend only on the seed and its name. ``<split>/image_classes.json`` lists
each frame's train ids (255 excluded): complete image-level labels, which the registration
reads for ``MODEL.AGMM.ABSENT_FROM image_classes``. ``--alias`` also links ``<N>clicks`` (the
name the built-in datasets read) to that folder. The same from Python:
``agmm_d2.data.public.cityscapes``.

    python datasets_prep/cityscapes_clicks.py trainids --root datasets/cityscapes
    python datasets_prep/cityscapes_clicks.py clicks --root datasets/cityscapes \\
        --clicks 20 50 100 --alias
"""
import json
from pathlib import Path

from agmm_d2.cli.options import PREP_ERRORS, add_overwrite_argument, exit_status_of, tool_parser
from agmm_d2.data.public.cityscapes import make_clicks, make_train_ids


def argument_parser():
    parser = tool_parser(__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("trainids", help="gtFine labelIds -> labelTrainIds")
    p.add_argument(
        "--root", type=Path, required=True, help="cityscapes folder (gtFine/, leftImg8bit/)"
    )
    p.add_argument("--splits", nargs="+", default=["train", "val"])
    p.add_argument("--out-root", type=Path, help="write here instead of --root")
    add_overwrite_argument(p, "existing train-id files")
    p = sub.add_parser("clicks", help="N random clicks per image from the train ids")
    p.add_argument(
        "--root", type=Path, required=True, help="cityscapes folder (gtFine/, leftImg8bit/)"
    )
    p.add_argument("--clicks", type=int, nargs="+", default=[20, 50, 100], help="clicks per image")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--split", default="train")
    p.add_argument("--out-root", type=Path, help="write here instead of --root")
    p.add_argument("--alias", action="store_true", help="also link <N>clicks -> <N>clicks_seed<S>")
    add_overwrite_argument(p, "the split in an existing output folder")
    return parser


def run(args) -> int:
    if args.command == "trainids":
        for split in args.splits:
            written = make_train_ids(args.root, split, args.out_root, overwrite=args.overwrite)
            print(json.dumps({"split": split, "written": written}))
    else:
        for n in args.clicks:
            print(json.dumps(make_clicks(args.root, n, args.seed, args.split, args.out_root,
                                         alias=args.alias, overwrite=args.overwrite)))
    return 0


def main(argv=None) -> int:
    return exit_status_of("cityscapes_clicks.py", run, argument_parser().parse_args(argv),
                          PREP_ERRORS)
