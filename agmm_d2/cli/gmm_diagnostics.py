"""What the Gaussian-mixture response R teaches, measured on a trained model's training images.

    python tools/gmm_diagnostics.py --config-file configs/idd_lite/20clicks_released.yaml \\
        --weights output/real_photos/agmm__released_20_clicks_seed0/model_final.pth --images 100

For each training image (whole image, no augmentation) with its sparse label, against its dense
label on the pixels that the sparse label leaves unlabeled (void excluded):
- how often argmax_k R (over the classes the sparse label touches) is the true class, and how
  often the model's own argmax_k P is, overall and per class (recall), and the IoU of each as a
  labelling of those pixels;
- how often R is not a distribution: two or more classes with R > 0.5 at a pixel;
- the gradient norm each loss term puts on the decoder features (a training forward on a batch).
Prints a JSON report, or with ``--markdown`` a table (a row per weights file: IoU of argmax R
and of argmax P per class, their mIoU, the share of pixels where R is not a distribution, and
the gradient norm of each term). ``--weights`` may be repeated (e.g. checkpoints over training).
The same from Python: ``agmm_d2.inspection.gmm_diagnostics.diagnose``.
"""
import json
import sys

from agmm_d2.cli.options import (
    add_config_arguments,
    exit_status_of,
    tool_parser,
    upgraded_dataset,
)
from agmm_d2.data import DatasetLayoutError
from agmm_d2.engine import build_config
from agmm_d2.inspection.gmm_diagnostics import diagnose, markdown
from agmm_d2.utils.errors import InputError


def argument_parser():
    parser = tool_parser(__doc__)
    parser.add_argument("--weights", action="append", required=True,
                        help="a trained model's weights file (repeatable)")
    parser.add_argument("--dataset", default=None, help="default: DATASETS.TRAIN[0]")
    parser.add_argument("--images", type=int, default=100)
    parser.add_argument("--markdown", action="store_true", help="a table instead of JSON")
    add_config_arguments(parser)
    return parser


def run(args) -> int:
    cfg = build_config(args.config_file, args.opts)
    dataset = upgraded_dataset("gmm_diagnostics.py", args.dataset)
    report = diagnose(cfg, args.weights, dataset, args.images)
    if args.markdown:
        print(markdown(report, list(report[0]["per_class"])))
    else:
        json.dump(report, sys.stdout, indent=1)
        print()
    return 0


def main(argv=None) -> int:
    return exit_status_of("gmm_diagnostics.py", run, argument_parser().parse_args(argv),
                          (InputError, DatasetLayoutError))
