"""Checks of a run's inputs before any process starts: each problem is one InputError line."""
import difflib
import os
from pathlib import Path
from typing import List

from detectron2.data import DatasetCatalog, MetadataCatalog
from detectron2.modeling import build_model

from ..data.checks.scan import default_cache_dir, scan_records
from ..data.datasets.files import left_out_summary
from ..data.datasets.generic import left_out_files
from ..utils.errors import InputError
from .checkpoint import load_weights, resume_checkpoint
from .setup import adapt_to_machine

__all__ = ["build_model_on_cpu", "check_data", "check_drawable", "check_inputs",
           "check_no_earlier_run", "check_output_dir", "check_registered", "check_run_shape",
           "check_weights"]


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


def check_run_shape(cfg, *, eval_only: bool, num_processes: int = 1) -> None:
    """Raise InputError for a run that would pass every other check and then fail in its
    processes: no dataset to train on or to evaluate, no iteration, a batch that the processes
    cannot share, weight averaging that starts outside the schedule or without batch-norm
    re-estimation, a negative number of loader workers."""
    solver = cfg.SOLVER
    if eval_only and not cfg.DATASETS.TEST:
        raise InputError("--eval-only: DATASETS.TEST is empty: there is nothing to evaluate")
    if not eval_only:
        if not cfg.DATASETS.TRAIN:
            raise InputError("DATASETS.TRAIN is empty: there is nothing to train on")
        if solver.MAX_ITER < 1:
            raise InputError(f"SOLVER.MAX_ITER is {solver.MAX_ITER}; expected 1 or more")
        _check_weight_averaging(cfg)
        processes = max(1, num_processes)
        if solver.IMS_PER_BATCH < processes or solver.IMS_PER_BATCH % processes:
            raise InputError(
                f"SOLVER.IMS_PER_BATCH is {solver.IMS_PER_BATCH}, which {processes} processes "
                f"cannot share: expected a multiple of {processes} (the number of processes, "
                "--num-gpus x --num-machines), at least 1 image each")
    if cfg.DATALOADER.NUM_WORKERS < 0:
        raise InputError(f"DATALOADER.NUM_WORKERS is {cfg.DATALOADER.NUM_WORKERS}; expected 0 "
                         "(load in the training process) or more")


def _check_weight_averaging(cfg) -> None:
    swa = cfg.SOLVER.SWA
    if not swa.ENABLED:
        return
    if not 0 <= swa.START_FRACTION < 1:
        raise InputError(f"SOLVER.SWA.START_FRACTION is {swa.START_FRACTION}; expected a "
                         "fraction of SOLVER.MAX_ITER in [0, 1)")
    if not cfg.TEST.PRECISE_BN.ENABLED:
        raise InputError("SOLVER.SWA.ENABLED needs TEST.PRECISE_BN.ENABLED True: the averaged "
                         "weights need batch-norm statistics of their own (TEST.PRECISE_BN."
                         "NUM_ITER batches)")


def check_inputs(cfg, *, eval_only: bool, resume: bool, num_processes: int = 1,
                 overwrite: bool = False) -> List[str]:
    """Raise InputError (or DatasetLayoutError) for datasets, class counts, the output folder and
    weights that cannot work, before any process is started (the option values were checked by
    ``build_config``); ``num_processes`` is the number of processes of the run, all machines
    together; ``overwrite`` lets a training replace an earlier run in OUTPUT_DIR. Returns notes
    to show (e.g. a resumption from an earlier checkpoint than the last)."""
    check_run_shape(cfg, eval_only=eval_only, num_processes=num_processes)
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
                    f"{lacking[0]}; write them with datasets_prep/image_classes.py (README, "
                    "Datasets) or set MODEL.AGMM.ABSENT_FROM sparse_classes")

    check_output_dir(cfg.OUTPUT_DIR)
    if not (eval_only or resume or overwrite):
        check_no_earlier_run(cfg.OUTPUT_DIR)
    return check_weights(cfg, eval_only=eval_only, resume=resume)


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


def check_output_dir(output_dir: str) -> None:
    """Raise InputError unless ``output_dir`` exists as a folder or can be created."""
    try:
        os.makedirs(output_dir, exist_ok=True)
    except OSError as e:
        raise InputError(f"OUTPUT_DIR {output_dir!r}: cannot be created ({e.strerror or e})") \
            from None


# What a training writes into OUTPUT_DIR that a second training would replace.
EARLIER_RUN_FILES = ("last_checkpoint", "model_*.pth", "metrics.json")


def check_no_earlier_run(output_dir: str) -> None:
    """Raise InputError if ``output_dir`` holds the checkpoints or metrics of an earlier
    training, which a new one (neither resumed nor told to overwrite) would replace."""
    found = sorted({p.name for pattern in EARLIER_RUN_FILES
                    for p in Path(output_dir).glob(pattern)})
    if found:
        raise InputError(f"OUTPUT_DIR {output_dir!r} holds an earlier run ({', '.join(found[:3])}"
                         f"{', ...' if len(found) > 3 else ''}): --resume continues it, "
                         "--overwrite replaces it (resume=/overwrite= in the Python API), or "
                         "choose another OUTPUT_DIR")


def check_weights(cfg, *, eval_only: bool, resume: bool) -> List[str]:
    """Raise InputError (CheckpointError) for weights the run cannot load: a missing
    MODEL.WEIGHTS file, a file that is not a checkpoint or matches none of the model's
    parameters, or ``resume`` with no readable checkpoint. Returns notes to show (a resumption
    from an earlier checkpoint than the last); warnings of a partial match are logged."""
    if resume:
        chosen, note = resume_checkpoint(cfg.OUTPUT_DIR)
        if chosen is not None:
            return [note] if note else []
    weights = cfg.MODEL.WEIGHTS
    if eval_only and not weights:
        raise InputError(_no_weights_to_evaluate(cfg.OUTPUT_DIR))
    if not weights or "://" in weights:
        return []
    if not os.path.isfile(weights):
        raise InputError(f"MODEL.WEIGHTS {weights!r}: no such file "
                         "(use MODEL.WEIGHTS \"\" to train from scratch)")
    load_weights(build_model_on_cpu(cfg), weights, expect_complete=eval_only)
    return []


def build_model_on_cpu(cfg):
    """The config's model built on the CPU, whatever MODEL.DEVICE says: the launching process
    reads a checkpoint's keys and shapes against it without touching a GPU (no CUDA context
    and no model on GPU 0 before ``launch`` starts the workers)."""
    cfg = cfg.clone()
    cfg.defrost()
    cfg.MODEL.DEVICE = "cpu"
    return build_model(adapt_to_machine(cfg)[0])


def _no_weights_to_evaluate(output_dir: str) -> str:
    """The message for --eval-only with an empty MODEL.WEIGHTS: what was looked for."""
    final = os.path.join(output_dir, "model_final.pth")
    if os.path.isfile(final):
        return (f"--eval-only: MODEL.WEIGHTS is empty (it would evaluate an untrained model); "
                f"{final} exists: pass MODEL.WEIGHTS {final} to evaluate it")
    return (f"--eval-only: MODEL.WEIGHTS is empty and {final} does not exist: there is no "
            "trained model to evaluate; train first or pass MODEL.WEIGHTS path/model_final.pth")


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
                             "datasets_prep/check.py), or skip this check with "
                             "--skip-data-check (check_data=False in the Python API).")
        if report.warnings:
            warnings.append(report.summary(key, warnings=True))
        left_out = left_out_files(meta)
        if left_out:
            warnings.append(left_out_summary(f"{key} dataset {name!r}", report.images, left_out))
    return warnings
