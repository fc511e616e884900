"""Checks of a run's inputs before any process starts: each problem is one InputError line."""
import difflib
import os

from detectron2.data import DatasetCatalog, MetadataCatalog

from ..config import RENAMED_VALUES
from ..modeling.agmm_loss import FEATURE_NORMS, PROTO_REDUCTIONS, VARIANCES
from ..modeling.meta_arch import ABSENT_SOURCES
from .errors import InputError

__all__ = ["check_inputs", "check_registered"]

_CHOICES = {"VARIANCE": VARIANCES, "PROTO_REDUCTION": PROTO_REDUCTIONS,
            "ABSENT_FROM": ABSENT_SOURCES, "FEATURE_NORM": FEATURE_NORMS}


def check_registered(name: str, what: str) -> None:
    """Raise InputError unless dataset ``name`` is registered; the error lists close names."""
    registered = DatasetCatalog.list()
    if name not in registered:
        close = difflib.get_close_matches(name, registered, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise InputError(f"{what}: dataset {name!r} is not registered{hint}")


def check_inputs(cfg, *, eval_only: bool, resume: bool) -> None:
    """Raise InputError (or DatasetLayoutError) for options, datasets, class counts and weights
    that cannot work, before any process is started."""
    agmm = cfg.MODEL.AGMM
    for key, allowed in _CHOICES.items():
        if agmm[key] not in allowed:
            renamed = RENAMED_VALUES.get(key, {}).get(agmm[key])
            hint = f" ({agmm[key]!r} is now called {renamed!r})" if renamed else ""
            raise InputError(f"MODEL.AGMM.{key} is {agmm[key]!r}; expected one of {allowed}{hint}")
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
        if key == "DATASETS.TEST" and not all("sem_seg_file_name" in r for r in records):
            raise InputError(f"{key}: dataset {name!r} has no dense labels to evaluate against")
        if key == "DATASETS.TRAIN" and uses_image_classes:
            lacking = [r["file_name"] for r in records if "image_classes" not in r]
            if lacking:
                raise InputError(
                    f"MODEL.AGMM.ABSENT_FROM is 'image_classes' but {len(lacking)} of "
                    f"{len(records)} images of {name!r} have no image-level labels, e.g. "
                    f"{lacking[0]}; write them with datasets_prep/image_classes.py (README, "
                    "Datasets) or set MODEL.AGMM.ABSENT_FROM sparse_classes")

    weights = cfg.MODEL.WEIGHTS
    resuming = resume and os.path.isfile(os.path.join(cfg.OUTPUT_DIR, "last_checkpoint"))
    if weights and "://" not in weights and not resuming and not os.path.isfile(weights):
        raise InputError(f"MODEL.WEIGHTS {weights!r}: no such file "
                         "(use MODEL.WEIGHTS \"\" to train from scratch)")
