"""Checks of a run's inputs before any process starts: each problem is one InputError line.

What is about the run is checked here (its shape, the output folder, the weights); the datasets
are checked by ``agmm_d2.data.checks``, which ``check_inputs`` calls.
"""
import os
from pathlib import Path
from typing import List

from detectron2.modeling import build_model

from ..data.checks import check_datasets
from ..utils.errors import InputError
from .checkpoint import load_weights, resume_checkpoint
from .setup import adapt_to_machine

__all__ = ["build_model_on_cpu", "check_inputs", "check_no_earlier_run", "check_output_dir",
           "check_run_shape", "check_weights"]


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
    """Raise InputError (or DatasetLayoutError) for a run shape, datasets (``check_datasets``),
    an output folder or weights that cannot work, before any process is started (the option
    values were checked by ``build_config``); ``num_processes`` is the number of processes of
    the run, all machines together; ``overwrite`` lets a training replace an earlier run in
    OUTPUT_DIR. Returns notes to show (e.g. a resumption from an earlier checkpoint than the
    last)."""
    check_run_shape(cfg, eval_only=eval_only, num_processes=num_processes)
    check_datasets(cfg, eval_only=eval_only)
    check_output_dir(cfg.OUTPUT_DIR)
    if not (eval_only or resume or overwrite):
        check_no_earlier_run(cfg.OUTPUT_DIR)
    return check_weights(cfg, eval_only=eval_only, resume=resume)


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
