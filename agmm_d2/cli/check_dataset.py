"""Check a dataset before training on it: every image decodes, every label is a single-channel map
of its image's size with allowed values, nothing is missing; annotated share per class.

Takes a registered dataset name, or a folder of images with ``--sparse`` and/or ``--dense``
label folders (paired as ``register_sparse_sem_seg`` pairs them). Sparse labels may hold class
ids 0..K-1, the dataset's unlabeled value and 255; dense labels class ids and the ignore label.
Image-level labels (``image_classes``), where the dataset has them, must be class ids and should
hold every class of the image's sparse label. Files the registration leaves out are reported
by kind: images without a label, labels without an image, images of another suffix (suffixes
are matched without regard to case: ``.JPG`` files are found with ``--image-ext .jpg``), hidden
files (a warning). Images are measured as the loader reads them, after their EXIF orientation.
The scan is the one ``tools/train_net.py`` runs before training (its result is cached per
file). Prints a JSON report and exits 1 when a problem is found (2 on bad arguments). The same
from Python: ``agmm_d2.data.checks.check_dataset``.

    python datasets_prep/check_dataset.py voc_2012_train_points
    python datasets_prep/check_dataset.py cityscapes_train_50clicks --datasets-root /data/datasets
    python datasets_prep/check_dataset.py data/images --sparse data/20clicks_seed0 \\
        --dense data/masks --num-classes 7 --image-ext _image.jpg --label-ext _label.png
"""
import json
from pathlib import Path

from detectron2.data import DatasetCatalog, MetadataCatalog

from agmm_d2.cli.options import PREP_ERRORS, exit_status_of, tool_parser, upgraded_dataset
from agmm_d2.data.checks.report import check_dataset
from agmm_d2.data.datasets import register_all, register_sparse_sem_seg
from agmm_d2.utils.errors import InputError

# The name a folder is registered under while it is checked.
FOLDER_DATASET = "check_dataset_folder"


def register_folder(args) -> str:
    """Register the folder arguments under a temporary name; returns it."""
    if args.sparse is None and args.dense is None:
        raise InputError(f"{args.dataset}: a folder needs --sparse and/or --dense label folders")
    if args.num_classes is None or args.num_classes < 1:
        raise InputError(f"{args.dataset}: a folder needs --num-classes K (K >= 1)")
    register_sparse_sem_seg(FOLDER_DATASET, args.dataset, args.sparse, args.dense,
                            classes=[str(i) for i in range(args.num_classes)],
                            image_ext=args.image_ext, label_ext=args.label_ext,
                            unlabeled_value=args.unlabeled_value, ignore_label=args.ignore_label,
                            image_classes=None)
    return FOLDER_DATASET


def argument_parser():
    parser = tool_parser(__doc__)
    parser.add_argument("dataset", help="a registered dataset name (e.g. voc_2012_train_points) "
                                        "or a folder of images")
    parser.add_argument("--datasets-root", type=Path,
                        help="register the built-in datasets under this folder first "
                             "(default: $DETECTRON2_DATASETS or ./datasets)")
    parser.add_argument("--limit", type=int, help="check only the first N images")
    folder = parser.add_argument_group("a folder instead of a registered name")
    folder.add_argument("--sparse", type=Path, help="folder of sparse label files")
    folder.add_argument("--dense", type=Path, help="folder of dense label files")
    folder.add_argument("--num-classes", type=int, help="K: class ids are 0..K-1")
    folder.add_argument("--image-ext", default=".jpg", help="image suffix (default .jpg)")
    folder.add_argument("--label-ext", default=".png", help="label suffix (default .png)")
    folder.add_argument("--unlabeled-value", type=int, default=255)
    folder.add_argument("--ignore-label", type=int, default=255)
    return parser


def run(args) -> int:
    if args.limit is not None and args.limit < 1:
        raise InputError(f"--limit {args.limit}: expected 1 or more")
    if args.datasets_root is not None:
        register_all(str(args.datasets_root))
    is_folder = Path(args.dataset).is_dir()
    if is_folder:
        name = register_folder(args)
    else:
        name = upgraded_dataset("check_dataset.py", args.dataset)
    try:
        report = check_dataset(name, args.limit)
    finally:
        if is_folder:
            DatasetCatalog.remove(name)
            MetadataCatalog.remove(name)
    print(json.dumps(report, indent=2))
    return 1 if "error" in report or report["problems"] else 0


def main(argv=None) -> int:
    return exit_status_of("check_dataset.py", run, argument_parser().parse_args(argv),
                          PREP_ERRORS)
