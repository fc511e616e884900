#!/usr/bin/env python
"""Check a registered dataset: missing files, size mismatches, bad label values, annotated share.

Walks every dataset dict of the name: the image and its sparse and dense label files must
exist and have the same size; sparse labels may hold class ids 0..K-1, the dataset's
unlabeled value and 255; dense labels class ids and the ignore label. Image-level labels
(``image_classes``), where the dataset has them, must be class ids and hold every class of the
image's sparse label. Prints a JSON report and exits 1 when a problem is found.

    python datasets_prep/check.py voc_2012_train_point
    python datasets_prep/check.py cityscapes_train_50clicks --datasets-root /data/datasets
"""
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Optional

import numpy as np

from agmm_d2.data.datasets import DatasetLayoutError, register_all
from detectron2.data import DatasetCatalog, MetadataCatalog
from agmm_d2.data.label_io import bad_label_values, read_label
from agmm_d2.data.prep import image_size
from agmm_d2.utils.cli import tool_parser

EXAMPLES = 5  # problem examples kept per kind


def check_dataset(name: str, limit: Optional[int] = None) -> dict:
    """Report on dataset ``name`` (registered in DatasetCatalog), first ``limit`` dicts only if given.

    Returns {"dataset", "images", "num_classes", "images_with_image_classes", "problems":
    {kind: count}, "examples": {kind: [message]}, "sparse_annotated_share",
    "sparse_class_pixels"} or, when the dataset cannot be listed, {"dataset", "error"}.
    """
    try:
        dicts = DatasetCatalog.get(name)
    except DatasetLayoutError as e:
        return {"dataset": name, "error": str(e)}
    meta = MetadataCatalog.get(name)
    k = len(meta.stuff_classes)
    ignore = meta.get("ignore_label", 255)
    problems, examples = defaultdict(int), defaultdict(list)
    class_pixels = np.zeros(k, np.int64)
    annotated = total = with_image_classes = 0

    def problem(kind, message):
        problems[kind] += 1
        if len(examples[kind]) < EXAMPLES:
            examples[kind].append(message)

    for d in dicts[:limit]:
        image = Path(d["file_name"])
        if not image.is_file():
            problem("missing_image", str(image))
            continue
        h, w = image_size(image)
        image_classes = d.get("image_classes")
        if image_classes is not None:
            with_image_classes += 1
            outside = [c for c in image_classes if not 0 <= c < k]
            if outside:
                problem("image_classes_out_of_range",
                        f"{image}: image_classes {outside} not in 0..{k - 1}")
        for field, allowed in (("sparse_seg_file_name", {d.get("sparse_unlabeled_value",
                                                                 meta.get("unlabeled_value", 255)), 255}),
                               ("sem_seg_file_name", {ignore})):
            if field not in d:
                continue
            path = Path(d[field])
            if not path.is_file():
                problem(f"missing_{field}", str(path))
                continue
            try:
                label = read_label(path)
            except ValueError as e:
                problem("not_single_channel", str(e))
                continue
            if label.shape != (h, w):
                problem("size_mismatch", f"{path}: {label.shape[::-1]} vs image {image}: {(w, h)}")
            bad = bad_label_values(label, k, allowed)
            if len(bad):
                problem("bad_values", f"{path}: {bad.tolist()[:10]}")
            if field == "sparse_seg_file_name":
                marked = label[(label < k) & ~np.isin(label, list(allowed))]
                class_pixels += np.bincount(marked.ravel().astype(np.int64), minlength=k)[:k]
                annotated += marked.size
                total += label.size
                unlisted = (sorted(set(np.unique(marked).tolist()) - set(image_classes))
                            if image_classes is not None else [])
                if unlisted:
                    problem("sparse_class_not_in_image_classes",
                            f"{path}: classes {unlisted} not in its image_classes {image_classes}")
    return {
        "dataset": name, "images": len(dicts[:limit]), "num_classes": k,
        "images_with_image_classes": with_image_classes,
        "problems": dict(problems), "examples": dict(examples),
        "sparse_annotated_share": annotated / total if total else None,
        "sparse_class_pixels": dict(zip(meta.stuff_classes, class_pixels.tolist())) if total else None,
    }


def main(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument("dataset", help="a registered dataset name, e.g. voc_2012_train_point")
    parser.add_argument("--datasets-root", type=Path,
                        help="register the built-in datasets under this folder first "
                             "(default: $DETECTRON2_DATASETS or ./datasets)")
    parser.add_argument("--limit", type=int, help="check only the first N images")
    args = parser.parse_args(argv)
    if args.datasets_root is not None:
        register_all(str(args.datasets_root))
    report = check_dataset(args.dataset, args.limit)
    print(json.dumps(report, indent=2))
    return 1 if "error" in report or report["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
