"""What a check of datasets reports: ``check_dataset`` (the JSON report of the check_dataset
tool: problems and warnings by kind, with examples, and the annotated share per class) and
``check_data`` (the scan of a run's datasets before it starts: InputError with the first few
broken files). Both rest on the one scan, ``agmm_d2.data.checks.scan``."""
from collections import Counter, defaultdict
from typing import List, Optional

from detectron2.data import DatasetCatalog, MetadataCatalog

from ...utils.errors import InputError
from ..datasets.files import left_out_summary
from ..datasets.generic import DatasetLayoutError, left_out_files
from .catalog import check_registered
from .scan import default_cache_dir, scan_records

__all__ = ["check_data", "check_dataset"]

EXAMPLES = 5  # problem examples kept per kind


def check_dataset(name: str, limit: Optional[int] = None, cache: bool = True) -> dict:
    """Report on dataset ``name`` (registered in DatasetCatalog), first ``limit`` dicts only if
    given.

    Returns {"dataset", "images", "num_classes", "images_with_image_classes", "problems":
    {kind: count}, "warnings": {kind: count}, "examples": {kind: [message]},
    "sparse_annotated_share", "sparse_class_pixels"} or, when the dataset cannot be listed,
    {"dataset", "error"}.
    """
    check_registered(name, "dataset")
    try:
        dicts = DatasetCatalog.get(name)[:limit]
    except DatasetLayoutError as e:
        return {"dataset": name, "error": str(e)}
    meta = MetadataCatalog.get(name)
    classes = meta.stuff_classes
    report = scan_records(name, dicts, num_classes=len(classes), role="all",
                          ignore_label=meta.get("ignore_label", 255),
                          unlabeled_value=meta.get("unlabeled_value", 255),
                          cache_dir=default_cache_dir() if cache else None)
    problems, warnings = list(report.problems), list(report.warnings)
    if limit is None:  # files the registration leaves out; a hidden file is only a warning
        for entry in left_out_files(meta):
            (warnings if entry[0] == "hidden_file" else problems).append(entry)
    examples = defaultdict(list)
    for kind, path, message in problems + warnings:
        if len(examples[kind]) < EXAMPLES:
            examples[kind].append(f"{path}: {message}")
    share = report.annotated_pixels / report.counted_pixels if report.counted_pixels else None
    return {
        "dataset": name,
        "images": report.images,
        "num_classes": len(classes),
        "images_with_image_classes": report.images_with_image_classes,
        "problems": dict(Counter(kind for kind, _, _ in problems)),
        "warnings": dict(Counter(kind for kind, _, _ in warnings)),
        "examples": dict(examples),
        "sparse_annotated_share": share,
        "sparse_class_pixels": dict(zip(classes, report.class_pixels))
        if share is not None
        else None,
    }


def check_data(cfg, *, eval_only: bool, cache_dir=None) -> List[str]:
    """Scan the files of the datasets the run uses (``agmm_d2.data.checks.scan``) and raise
    InputError with the first few broken files and a count; returns warnings to show.

    Training sets: images decode, the labels the mapper reads are single-channel, of their
    image's size, with class ids, the unlabeled or the ignore value, and some pixel is annotated.
    Test sets: images decode, dense labels hold class ids or the ignore value (any value with
    ``TEST.OUT_OF_RANGE_LABELS ignore``). Images are measured as the loader reads them (after
    their EXIF orientation). Files of the datasets' folders that the registration leaves out
    (``agmm_d2.data.datasets.files``) are counted in a warning.
    """
    cache_dir = default_cache_dir() if cache_dir is None else cache_dir
    num_classes = cfg.MODEL.SEM_SEG_HEAD.NUM_CLASSES
    roles = [("DATASETS.TEST", "test", name) for name in cfg.DATASETS.TEST]
    if not eval_only:
        roles = [("DATASETS.TRAIN", "train", name) for name in cfg.DATASETS.TRAIN] + roles
    warnings = []
    for key, role, name in roles:
        meta = MetadataCatalog.get(name)
        report = scan_records(
            name, DatasetCatalog.get(name), num_classes=num_classes, role=role,
            ignore_label=meta.get("ignore_label", 255),
            unlabeled_value=meta.get("unlabeled_value", cfg.INPUT.SPARSE_UNLABELED_VALUE),
            allow_values_outside=cfg.TEST.OUT_OF_RANGE_LABELS == "ignore", cache_dir=cache_dir)
        if not report.ok:
            raise InputError(report.summary(key) + "\nFix or remove these files (check them with "
                             "datasets_prep/check_dataset.py), or skip this check with "
                             "--skip-data-check (check_data=False in the Python API).")
        if report.warnings:
            warnings.append(report.summary(key, warnings=True))
        left_out = left_out_files(meta)
        if left_out:
            warnings.append(left_out_summary(f"{key} dataset {name!r}", report.images, left_out))
    return warnings
