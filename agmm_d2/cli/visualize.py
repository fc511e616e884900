"""Look at what the model sees: image, sparse labels, dense labels, prediction, and the
Gaussian-mixture response that AGMM supervises the unlabeled pixels with.

    python tools/visualize.py --config-file configs/synthetic/demo.yaml \
        --dataset synthetic_train_points --num 4 --output vis/ \
        MODEL.WEIGHTS output/synthetic/demo/model_final.pth

Writes one PNG panel per image, ``<output>/<image_id>.png``: a row of tiles of the image's own
size. Label maps are drawn with detectron2's ``Visualizer`` in the dataset's ``stuff_colors``;
each response tile shows R for one class (``--classes``; default: the classes of the image's
sparse label, at most 3) as a heat map over the image. A non-empty ``--output`` is refused
unless ``--overwrite``; ``--register`` runs your registration code first. The same from Python:
``agmm_d2.api.draw_panels``.
"""
import os
from pathlib import Path

from detectron2.data import DatasetCatalog

from agmm_d2.api import draw_panels
from agmm_d2.cli.options import (
    add_config_arguments,
    add_output_argument,
    add_overwrite_argument,
    add_register_argument,
    exit_status_of,
    tool_parser,
    upgraded_dataset,
)
from agmm_d2.data import DatasetLayoutError
from agmm_d2.data.checks import check_registered
from agmm_d2.engine import (
    build_config,
    run_registrations,
    setup_console_logging,
)
from agmm_d2.predict import save_png
from agmm_d2.predict.files import check_output_folder
from agmm_d2.utils.errors import InputError


def argument_parser():
    parser = tool_parser(__doc__)
    parser.add_argument("--dataset", default=None,
                        help="registered dataset with sparse labels (default: DATASETS.TRAIN[0])")
    parser.add_argument("--num", type=int, default=4, help="number of images (from the start)")
    parser.add_argument("--indices", type=int, nargs="*", default=None,
                        help="indices of the images in the dataset (overrides --num)")
    parser.add_argument("--classes", default="",
                        help="comma-separated class names whose response to draw")
    add_output_argument(parser, "folder for the PNG panels")
    add_overwrite_argument(parser, "the files of the same name in a non-empty --output (without "
                                   "it, a non-empty --output is refused)")
    add_register_argument(parser)
    add_config_arguments(parser)
    return parser


def run(args) -> int:
    setup_console_logging()
    cfg = build_config(args.config_file, args.opts)
    weights = cfg.MODEL.WEIGHTS
    if not weights or ("://" not in weights and not os.path.isfile(weights)):
        raise InputError(f"MODEL.WEIGHTS {weights!r}: no such file; give a trained model")
    if args.num < 1:
        raise InputError(f"--num {args.num}: expected 1 or more images")
    run_registrations(args.register)
    check_output_folder(args.output, args.overwrite)
    dataset = upgraded_dataset("visualize.py", args.dataset) or cfg.DATASETS.TRAIN[0]
    check_registered(dataset, "--dataset")
    records = DatasetCatalog.get(dataset)
    indices = args.indices if args.indices else range(min(args.num, len(records)))
    classes = [c.strip() for c in args.classes.split(",") if c.strip()]
    panels = draw_panels(cfg, dataset, list(indices), weights, classes)
    out = Path(args.output)
    for i, panel in zip(indices, panels):
        name = str(records[i].get("image_id", i)).replace(os.sep, "_")
        save_png(panel, out / f"{name}.png")
        print(f"visualize.py: wrote {out / f'{name}.png'}")
    return 0


def main(argv=None) -> int:
    return exit_status_of("visualize.py", run, argument_parser().parse_args(argv),
                          (InputError, DatasetLayoutError))

