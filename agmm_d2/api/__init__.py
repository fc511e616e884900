"""The Python API: training, evaluation, prediction and panels, each a call of a few words.

    from agmm_d2.api import build_config, draw_panels, evaluate, predict_folder, train
    cfg = build_config("configs/synthetic/20clicks_released.yaml",
                       {"DATASETS.TRAIN": ("my_train",), "DATASETS.TEST": ("my_val",)})
    results = train(cfg)                     # one process here; num_processes=2 for two
    print(results["sem_seg"]["mIoU"])
    evaluate(cfg)                            # OUTPUT_DIR/model_final.pth
    predict_folder(cfg, "photos/", "predictions/")
    panels = draw_panels(cfg, "my_train", indices=[0, 1])   # (H, W, 3) RGB arrays

Datasets registered in this process (``agmm_d2.data.register_*`` or detectron2's
``DatasetCatalog.register``) reach the processes of a multi-process run by themselves.
"""
import argparse
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from detectron2.data import DatasetCatalog
from detectron2.data.detection_utils import read_image
from detectron2.engine import launch
from detectron2.modeling import build_model
from detectron2.utils import comm
from tqdm import tqdm

from ..data.checks import check_data, check_drawable, check_registered
from ..engine.checkpoint import load_weights
from ..engine.checks import check_inputs
from ..engine.launch import leave_worker_process
from ..engine.progress import follow_log
from ..engine.registration import DatasetSnapshot, run_registrations
from ..engine.setup import adapt_to_machine, build_config, setup_run
from ..engine.trainer import Trainer, train_or_evaluate
from ..evaluation import RESULT_TABLES
from ..inspection.panels import PanelMaker
from ..predict.files import check_output_folder
from ..predict.predictor import (
    BatchPredictor,
    PredictionReport,
    class_palette,
    find_images,
    output_names,
    save_png,
)
from ..utils.errors import InputError

__all__ = ["build_config", "draw_panels", "evaluate", "predict_folder", "resolve_weights", "train"]

logger = logging.getLogger(__name__)

PathLike = Union[str, Path]


class _ProgressTrainer(Trainer):
    show_progress = True


@dataclass
class _Job:
    """One run of the API, as sent to the processes of a multi-process run."""

    cfg: object
    eval_only: bool
    resume: bool
    register: Tuple[str, ...]


def _with_weights(cfg, weights: str):
    cfg = cfg.clone()
    cfg.defrost()
    cfg.MODEL.WEIGHTS = str(weights)
    cfg.freeze()
    return cfg


def resolve_weights(cfg, weights: Optional[PathLike] = None) -> str:
    """The weights to use: ``weights`` if given, else ``OUTPUT_DIR/model_final.pth`` if that
    exists (the model this config trained), else ``MODEL.WEIGHTS``. InputError if there are
    none, or if a local file among them does not exist."""
    final = Path(cfg.OUTPUT_DIR) / "model_final.pth"
    chosen = str(weights) if weights else str(final) if final.is_file() else cfg.MODEL.WEIGHTS
    if not chosen:
        raise InputError(f"no weights to use: {final} does not exist and MODEL.WEIGHTS is empty; "
                         "train first or pass weights=...")
    if "://" not in chosen and not os.path.isfile(chosen):
        raise InputError(f"MODEL.WEIGHTS {chosen!r}: no such file")
    return chosen


def _execute(job: _Job, progress: bool):
    args = argparse.Namespace(config_file="", eval_only=job.eval_only, resume=job.resume,
                              num_processes=comm.get_world_size(), register=list(job.register))
    cfg = setup_run(job.cfg, args)
    return train_or_evaluate(cfg, eval_only=job.eval_only, resume=job.resume,
                             trainer_class=_ProgressTrainer if progress else Trainer)


def _worker(job: _Job, datasets: DatasetSnapshot, quiet: bool) -> None:
    """One process of a multi-process API run."""
    if quiet:  # the calling process prints this run's log from OUTPUT_DIR/log.txt
        sys.stdout = open(os.devnull, "w")
    datasets.restore()
    run_registrations(job.register)
    _execute(job, progress=False)
    leave_worker_process()


def _saved_results(cfg, since: float) -> Dict:
    """The evaluation results that a multi-process run saved after ``since`` (time.time())."""
    results = {}
    for name in cfg.DATASETS.TEST:
        folder = Path(cfg.OUTPUT_DIR) / "inference" / name
        saved = {key: folder / f"{key}_evaluation.pth" for key in RESULT_TABLES}
        fresh = {key: path for key, path in saved.items()
                 if path.is_file() and path.stat().st_mtime >= since}
        if not fresh:
            raise RuntimeError(f"the run saved no evaluation of {name} in {folder}; see "
                               f"{Path(cfg.OUTPUT_DIR) / 'log.txt'}")
        results[name] = {key: torch.load(path, weights_only=False) for key, path in fresh.items()}
    return results[cfg.DATASETS.TEST[0]] if len(results) == 1 else results


def _run(job: _Job, num_processes: int, progress: bool):
    if num_processes < 1:
        raise InputError(f"num_processes is {num_processes}; expected 1 or more")
    if num_processes == 1:
        return _execute(job, progress)
    datasets = DatasetSnapshot(tuple(job.cfg.DATASETS.TEST) + (
        () if job.eval_only else tuple(job.cfg.DATASETS.TRAIN)))
    start = time.time()
    done = threading.Event()
    follower = threading.Thread(target=follow_log, daemon=True,
                                args=(Path(job.cfg.OUTPUT_DIR) / "log.txt", done))
    if progress:
        follower.start()
    try:
        launch(_worker, num_processes, dist_url="auto", args=(job, datasets, progress))
    finally:
        done.set()
        if progress:
            follower.join()
    return _saved_results(job.cfg, start)


def _preflight(cfg, *, eval_only: bool, resume: bool, scan: bool, num_processes: int,
               overwrite: bool = False) -> None:
    notes = check_inputs(cfg, eval_only=eval_only, resume=resume, num_processes=num_processes,
                         overwrite=overwrite)
    if scan:
        notes += check_data(cfg, eval_only=eval_only)
    for note in notes:
        print(f"warning: {note}", file=sys.stderr)


def train(cfg, *, num_processes: int = 1, resume: bool = False, overwrite: bool = False,
          register: Sequence[str] = (), check_data: bool = True, progress: bool = True):
    """Train ``cfg`` and evaluate the final model on ``DATASETS.TEST``; returns the results
    (``results["sem_seg"]["mIoU"]`` for one test set; ``results["sparse_sem_seg"]
    ["mIoU_annotated_pixels"]`` for one without dense labels).

    Args:
        cfg: from ``build_config``.
        num_processes: 1 trains here; N > 1 starts N processes with detectron2's ``launch``
            (N GPUs, or gloo on the CPU). Datasets registered here reach them by themselves.
        resume: continue from the last checkpoint in ``OUTPUT_DIR``.
        overwrite: train into an ``OUTPUT_DIR`` that holds an earlier run, replacing it
            (without ``resume`` or ``overwrite``, such an ``OUTPUT_DIR`` is an InputError).
        register: registration modules or ``.py`` files to run first, in every process.
        check_data: scan the datasets' files first (``agmm_d2.data.checks``; cached per file).
        progress: progress bars here, or the run's log followed here from N processes.

    Raises InputError (one message) for inputs that cannot work, before any process starts.
    """
    run_registrations(register)
    _preflight(cfg, eval_only=False, resume=resume, scan=check_data,
               num_processes=num_processes, overwrite=overwrite)
    return _run(_Job(cfg, False, resume, tuple(register)), num_processes, progress)


def evaluate(cfg, weights: Optional[PathLike] = None, *, num_processes: int = 1,
             register: Sequence[str] = (), check_data: bool = True, progress: bool = True):
    """Evaluate ``weights`` (default: ``resolve_weights``) on ``DATASETS.TEST``; returns the
    results as ``train`` does. Arguments as in ``train``."""
    run_registrations(register)
    cfg = _with_weights(cfg, resolve_weights(cfg, weights))
    _preflight(cfg, eval_only=True, resume=False, scan=check_data,
               num_processes=num_processes)
    return _run(_Job(cfg, True, False, tuple(register)), num_processes, progress)


def predict_folder(cfg, inputs: Union[PathLike, Sequence[PathLike]], output: PathLike,
                   weights: Optional[PathLike] = None, *, overwrite: bool = False,
                   batch_size: Optional[int] = None, progress: bool = True,
                   register: Sequence[str] = ()) -> PredictionReport:
    """Segment every image named by ``inputs`` (folders, searched recursively, files or globs)
    and write ``<output>/ids/<name>.png`` (class ids) and ``<output>/color/<name>.png``.

    A non-empty ``output`` is refused unless ``overwrite``. The colours are the ``stuff_colors``
    of the config's datasets (registered here, or by the ``register`` modules or ``.py`` files);
    without them the call is refused. Files that are not readable images are skipped and listed
    in the report. Returns what was written and skipped.
    """
    inputs = [str(inputs)] if isinstance(inputs, (str, Path)) else [str(i) for i in inputs]
    if batch_size is not None and batch_size < 1:
        raise InputError(f"--batch-size {batch_size}: expected 1 or more")
    run_registrations(register)
    cfg, _ = adapt_to_machine(_with_weights(cfg, resolve_weights(cfg, weights)))
    out = Path(output)
    check_output_folder(out, overwrite)
    files = find_images(inputs)
    if not files:
        raise InputError(f"--input {inputs}: no files found")
    names = output_names(files)
    palette = class_palette(cfg)
    predictor = BatchPredictor(cfg)
    batch_size = batch_size or (8 if cfg.MODEL.DEVICE.startswith("cuda") else 1)
    report = PredictionReport()
    bar = tqdm(total=len(files), unit="img", desc="predict", disable=not progress)
    for start in range(0, len(files), batch_size):
        chunk, images = [], []
        batch = slice(start, start + batch_size)
        for (path, _), name in zip(files[batch], names[batch]):
            try:
                images.append(read_image(str(path), format=cfg.INPUT.FORMAT))
                chunk.append(name)
            except Exception as e:  # PIL raises several types for non-images
                report.skipped.append((path, f"not a readable image ({e})"))
                tqdm.write(f"skipping {path}: not a readable image ({e})", file=sys.stderr)
        for name, ids in zip(chunk, predictor(images) if images else []):
            for folder, array in (("ids", ids), ("color", palette[ids])):
                save_png(array, out / folder / name)
                report.written.append(out / folder / name)
        bar.update(len(files[batch]))
    bar.close()
    return report


def draw_panels(cfg, dataset: Optional[str] = None, indices: Sequence[int] = (0,),
                weights: Optional[PathLike] = None, classes: Sequence[str] = (),
                register: Sequence[str] = ()) -> List[np.ndarray]:
    """Panels (image, sparse labels, dense labels, prediction, GMM response R of ``classes``)
    of the images at ``indices`` of ``dataset`` (default: ``DATASETS.TRAIN[0]``), as (H, W, 3)
    uint8 RGB arrays; see ``agmm_d2.inspection.panels``. ``register``: as in ``train``. A dataset
    without ``stuff_classes`` and ``stuff_colors`` is refused (its labels would be drawn in
    colours of no class)."""
    run_registrations(register)
    dataset = dataset or cfg.DATASETS.TRAIN[0]
    check_registered(dataset, "dataset")
    check_drawable(dataset, cfg.MODEL.SEM_SEG_HEAD.NUM_CLASSES)
    records = DatasetCatalog.get(dataset)
    for i in indices:
        if not 0 <= i < len(records):
            raise InputError(f"index {i}: {dataset} has {len(records)} images")
    cfg, _ = adapt_to_machine(_with_weights(cfg, resolve_weights(cfg, weights)))
    model = load_weights(build_model(cfg).eval(), cfg.MODEL.WEIGHTS)
    try:
        maker = PanelMaker(cfg, model, dataset, classes)
    except ValueError as e:
        raise InputError(str(e)) from None
    return [maker(records[i]) for i in indices]
