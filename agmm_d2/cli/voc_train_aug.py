"""Make VOC 2012 ``train_aug``: SBD train+val and VOC train, minus VOC val (10,582 images).

Writes ``SegmentationClassAug/<id>.png`` (class ids, VOC palette) and
``ImageSets/Segmentation/train_aug.txt``. An image's label is VOC's own ``SegmentationClass``
PNG where VOC has one (it marks object borders 255), else SBD's ``cls/<id>.mat``.
``SegmentationClassAug/image_classes.json`` lists each image's classes (255 excluded): the
image-level labels that the VOC training sets read for ``MODEL.AGMM.ABSENT_FROM image_classes``.
The same from Python: ``agmm_d2.data.public.voc_train_aug.make_train_aug``.

    python datasets_prep/voc_train_aug.py --voc-root datasets/VOC2012 \\
        --sbd-root benchmark_RELEASE/dataset
"""
import json
from pathlib import Path

from agmm_d2.cli.options import PREP_ERRORS, add_overwrite_argument, exit_status_of, tool_parser
from agmm_d2.data.public.voc_train_aug import make_train_aug


def argument_parser():
    parser = tool_parser(__doc__)
    parser.add_argument("--voc-root", type=Path, required=True, help="VOC2012 folder")
    parser.add_argument("--sbd-root", type=Path, required=True,
                        help="SBD's dataset/ folder (train.txt, val.txt, cls/*.mat)")
    add_overwrite_argument(parser, "an existing SegmentationClassAug/")
    return parser


def run(args) -> int:
    print(json.dumps(make_train_aug(args.voc_root, args.sbd_root, overwrite=args.overwrite)))
    return 0


def main(argv=None) -> int:
    return exit_status_of("voc_train_aug.py", run, argument_parser().parse_args(argv),
                          PREP_ERRORS)
