"""What the catalog says about the datasets a run uses, checked before any process starts:
each problem is one InputError line (the datasets are registered, have the model's number of
classes, colours to draw with, the labels their evaluator reads, the image-level labels the
loss needs)."""
import difflib

from detectron2.data import DatasetCatalog, MetadataCatalog

from ...utils.errors import InputError

__all__ = ["check_datasets", "check_drawable", "check_registered"]


def check_registered(name: str, what: str) -> None:
    """Raise InputError unless dataset ``name`` is registered; the error lists close names."""
    registered = DatasetCatalog.list()
    if name not in registered:
        close = difflib.get_close_matches(name, registered, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise InputError(f"{what}: dataset {name!r} is not registered{hint}")


def check_drawable(name: str, num_classes: int) -> None:
    """Raise InputError unless dataset ``name`` has ``stuff_classes`` and ``stuff_colors`` for
    ``num_classes`` classes (what a drawing of its labels or predictions needs)."""
    meta = MetadataCatalog.get(name)
    for key in ("stuff_classes", "stuff_colors"):
        found = meta.get(key)
        if not found or len(found) < num_classes:
            raise InputError(
                f"dataset {name!r}: {'no' if not found else len(found)} {key} for "
                f"MODEL.SEM_SEG_HEAD.NUM_CLASSES {num_classes} classes, so nothing can be drawn "
                "in the colours of its classes; register it with stuff_classes and stuff_colors "
                "(--register FILE.py|MODULE runs your registration)")


def check_datasets(cfg, *, eval_only: bool) -> None:
    """Raise InputError (or DatasetLayoutError) for a dataset of ``cfg`` that the run cannot
    use: not registered, without ``stuff_classes`` or with another number of classes than
    MODEL.SEM_SEG_HEAD.NUM_CLASSES, a test set without the labels its evaluator reads, a
    training set without image-level labels where MODEL.AGMM.ABSENT_FROM needs them. Lists each
    dataset (its folders are read: a missing one is reported now)."""
    agmm = cfg.MODEL.AGMM
    used = [("DATASETS.TEST", name) for name in cfg.DATASETS.TEST]
    if not eval_only:
        used = [("DATASETS.TRAIN", name) for name in cfg.DATASETS.TRAIN] + used
    num_classes = cfg.MODEL.SEM_SEG_HEAD.NUM_CLASSES
    for key, name in used:
        check_registered(name, key)
        classes = MetadataCatalog.get(name).get("stuff_classes")
        if classes is None:
            raise InputError(f"{key}: dataset {name!r} has no stuff_classes metadata")
        if len(classes) != num_classes:
            raise InputError(f"MODEL.SEM_SEG_HEAD.NUM_CLASSES is {num_classes} "
                             f"but dataset {name!r} has {len(classes)} classes")
    uses_image_classes = agmm.ENABLED and agmm.ABSENT_FROM == "image_classes"
    for key, name in used:
        records = DatasetCatalog.get(name)  # reads the folders: a missing one is reported now
        if key == "DATASETS.TEST":
            _check_evaluable(name, records)
        if key == "DATASETS.TRAIN" and uses_image_classes:
            lacking = [r["file_name"] for r in records if "image_classes" not in r]
            if lacking:
                raise InputError(
                    f"MODEL.AGMM.ABSENT_FROM is 'image_classes' but {len(lacking)} of "
                    f"{len(records)} images of {name!r} have no image-level labels, e.g. "
                    f"{lacking[0]}; write them with datasets_prep/image_classes.py "
                    "(docs/datasets.md, Image-level labels) or set MODEL.AGMM.ABSENT_FROM "
                    "sparse_classes")


def _check_evaluable(name: str, records) -> None:
    """InputError unless the labels that the test set's evaluator reads are all there."""
    kind = MetadataCatalog.get(name).get("evaluator_type", "sem_seg")
    field = {"sem_seg": "sem_seg_file_name", "sparse_sem_seg": "sparse_seg_file_name"}.get(kind)
    if field is None:
        raise InputError(f"DATASETS.TEST: dataset {name!r} has evaluator_type {kind!r}; expected "
                         "'sem_seg' (dense labels) or 'sparse_sem_seg' (annotated pixels)")
    lacking = [r["file_name"] for r in records if field not in r]
    if lacking:
        what = "dense" if kind == "sem_seg" else "sparse"
        raise InputError(f"DATASETS.TEST: {len(lacking)} of {len(records)} images of dataset "
                         f"{name!r} have no {what} label to evaluate against, e.g. {lacking[0]}")
