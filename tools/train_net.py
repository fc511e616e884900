#!/usr/bin/env python
"""Train and evaluate AGMM DeepLabV3+ with detectron2, from the repository root.

    python tools/train_net.py --config-file configs/synthetic_demo.yaml
    python tools/train_net.py --config-file configs/voc_scribble.yaml --num-gpus 4
    python tools/train_net.py --config-file configs/voc_scribble.yaml --eval-only \
        MODEL.WEIGHTS output/voc_scribble/model_final.pth
    python tools/train_net.py --config-file configs/cityscapes_50clicks.yaml --num-gpus 8 \
        --num-machines 2 --machine-rank 0 --dist-url tcp://HOST:PORT

``--num-gpus N`` starts N processes per machine (NCCL on GPUs; on a machine without CUDA,
gloo on the CPU with plain BatchNorm).
"""
import difflib
import logging
import os
import sys
import weakref
from pathlib import Path

# The repository root, so that agmm_d2 imports from a checkout that is not pip-installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# agmm_d2 before detectron2: it silences the torch.jit warnings that detectron2's imports raise,
# and registers the meta-architecture, the head and the datasets.
from agmm_d2 import add_agmm_config  # noqa: E402  (isort: skip)
from agmm_d2.data import DatasetLayoutError  # noqa: E402  (isort: skip)
from agmm_d2.data.sparse_mapper import SparseSemSegDatasetMapper  # noqa: E402  (isort: skip)
from agmm_d2.modeling.agmm_loss import (FEATURE_NORMS, PROTO_REDUCTIONS,  # noqa: E402  (isort: skip)
                                        VARIANCES)
from agmm_d2.modeling.meta_arch import ABSENT_SOURCES  # noqa: E402  (isort: skip)
import numpy as np  # noqa: E402
import torch  # noqa: E402
from detectron2.checkpoint import DetectionCheckpointer  # noqa: E402
from detectron2.config import get_cfg  # noqa: E402
from detectron2.data import (DatasetCatalog, MetadataCatalog,  # noqa: E402
                             build_detection_train_loader)
from detectron2.engine import (AMPTrainer, DefaultTrainer, SimpleTrainer, TrainerBase,  # noqa: E402
                               create_ddp_model, default_argument_parser, default_setup, launch)
from detectron2.evaluation import SemSegEvaluator  # noqa: E402
from detectron2.projects.deeplab import build_lr_scheduler  # noqa: E402
from detectron2.solver.build import (get_default_optimizer_params,  # noqa: E402
                                     maybe_add_gradient_clipping)
from detectron2.utils import comm  # noqa: E402
from detectron2.utils.file_io import PathManager  # noqa: E402
from PIL import Image  # noqa: E402
from tabulate import tabulate  # noqa: E402

logger = logging.getLogger("detectron2")


class InputError(ValueError):
    """A config, dataset or weights file that cannot work; reported as one line."""


def exit_status_of(prog: str, run, args) -> int:
    """``run(args)``'s exit status; an InputError is printed as one line and gives 2."""
    try:
        return run(args)
    except InputError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2


def load_dense_label(filename: str, dtype=int) -> np.ndarray:
    """(H, W) label image for SemSegEvaluator (its default loader fails with NumPy 2)."""
    with PathManager.open(filename, "rb") as f:
        return np.asarray(Image.open(f), dtype=dtype)


class Trainer(DefaultTrainer):
    """DefaultTrainer with the sparse-label mapper, SemSegEvaluator, a head lr multiplier,
    the poly schedule, and DistributedDataParallel on the CPU."""

    def __init__(self, cfg):
        # DefaultTrainer.__init__, except that a CPU model is wrapped without device ids:
        # create_ddp_model passes device_ids=[local_rank], which DDP rejects for CPU modules.
        TrainerBase.__init__(self)
        cfg = self.auto_scale_workers(cfg, comm.get_world_size())
        model = self.build_model(cfg)
        optimizer = self.build_optimizer(cfg, model)
        data_loader = self.build_train_loader(cfg)
        on_cpu = next(model.parameters()).device.type == "cpu"
        model = create_ddp_model(model, broadcast_buffers=False,
                                 **({"device_ids": None} if on_cpu else {}))
        self._trainer = (AMPTrainer if cfg.SOLVER.AMP.ENABLED else SimpleTrainer)(
            model, data_loader, optimizer)
        self.scheduler = self.build_lr_scheduler(cfg, optimizer)
        self.checkpointer = DetectionCheckpointer(model, cfg.OUTPUT_DIR,
                                                  trainer=weakref.proxy(self))
        self.start_iter = 0
        self.max_iter = cfg.SOLVER.MAX_ITER
        self.cfg = cfg
        self.register_hooks(self.build_hooks())

    @classmethod
    def build_train_loader(cls, cfg):
        mapper = SparseSemSegDatasetMapper(cfg, is_train=True)
        return build_detection_train_loader(cfg, mapper=mapper)

    @classmethod
    def build_evaluator(cls, cfg, dataset_name, output_folder=None):
        output_folder = output_folder or os.path.join(cfg.OUTPUT_DIR, "inference", dataset_name)
        return SemSegEvaluator(dataset_name, distributed=True, output_dir=output_folder,
                               sem_seg_loading_fn=load_dense_label)

    @classmethod
    def build_optimizer(cls, cfg, model):
        """SGD; the backbone at SOLVER.BASE_LR, everything else at BASE_LR x HEAD_LR_MULTIPLIER."""
        head_factor = cfg.SOLVER.HEAD_LR_MULTIPLIER
        params = get_default_optimizer_params(
            model,
            base_lr=cfg.SOLVER.BASE_LR,
            weight_decay_norm=cfg.SOLVER.WEIGHT_DECAY_NORM,
            bias_lr_factor=cfg.SOLVER.BIAS_LR_FACTOR,
            weight_decay_bias=cfg.SOLVER.WEIGHT_DECAY_BIAS,
            lr_factor_func=lambda name: 1.0 if name.startswith("backbone.") else head_factor,
        )
        return maybe_add_gradient_clipping(cfg, torch.optim.SGD)(
            params, lr=cfg.SOLVER.BASE_LR, momentum=cfg.SOLVER.MOMENTUM,
            nesterov=cfg.SOLVER.NESTEROV, weight_decay=cfg.SOLVER.WEIGHT_DECAY)

    @classmethod
    def build_lr_scheduler(cls, cfg, optimizer):
        # detectron2's DeepLab project adds WarmupPolyLR (SOLVER.POLY_LR_POWER) to the built-ins.
        return build_lr_scheduler(cfg, optimizer)

    @classmethod
    def test(cls, cfg, model, evaluators=None):
        results = super().test(cfg, model, evaluators)
        if comm.is_main_process():
            by_dataset = {cfg.DATASETS.TEST[0]: results} if len(cfg.DATASETS.TEST) == 1 else results
            for name, result in by_dataset.items():
                logger.info("%s", format_iou_table(name, result["sem_seg"]))
        return results


def format_iou_table(dataset_name: str, metrics: dict) -> str:
    """mIoU and per-class IoU (in %) of SemSegEvaluator's metrics, as a text table."""
    rows = [(key[len("IoU-"):], f"{value:.1f}") for key, value in metrics.items()
            if key.startswith("IoU-")]
    table = tabulate(rows, headers=["class", "IoU"], tablefmt="pipe", stralign="right")
    return f"{dataset_name}: mIoU {metrics['mIoU']:.1f}\n{table}"


def build_config(args):
    """The merged config and notes on settings changed to run on this machine."""
    if not os.path.isfile(args.config_file):
        raise InputError(f"--config-file {args.config_file!r}: no such file")
    cfg = get_cfg()
    add_agmm_config(cfg)
    try:
        cfg.merge_from_file(args.config_file)
        cfg.merge_from_list(args.opts)
    except (KeyError, AssertionError, ValueError) as e:  # yacs: unknown key, odd list, bad type
        raise InputError(f"{args.config_file} + command-line options: {e.args[0]}") from None
    notes = []
    if cfg.MODEL.DEVICE.startswith("cuda") and not torch.cuda.is_available():
        notes.append(f"MODEL.DEVICE {cfg.MODEL.DEVICE} -> cpu: CUDA is not available")
        cfg.MODEL.DEVICE = "cpu"
    if cfg.MODEL.DEVICE == "cpu":
        # torch's SyncBatchNorm only runs on GPUs; across CPU processes each one normalizes alone.
        for node in (cfg.MODEL.RESNETS, cfg.MODEL.SEM_SEG_HEAD):
            if node.NORM == "SyncBN":
                node.NORM = "BN"
                notes.append("SyncBN -> BN on the CPU")
    cfg.freeze()
    return cfg, sorted(set(notes))


def check_inputs(cfg, *, eval_only: bool, resume: bool) -> None:
    """Raise InputError (or DatasetLayoutError) for datasets, class counts and weights that
    cannot work, before any process is started."""
    agmm = cfg.MODEL.AGMM
    for key, allowed in [("VARIANCE", VARIANCES), ("PROTO_REDUCTION", PROTO_REDUCTIONS),
                         ("ABSENT_FROM", ABSENT_SOURCES), ("FEATURE_NORM", FEATURE_NORMS)]:
        if agmm[key] not in allowed:
            raise InputError(f"MODEL.AGMM.{key} is {agmm[key]!r}; expected one of {allowed}")
    used = [("DATASETS.TEST", name) for name in cfg.DATASETS.TEST]
    if not eval_only:
        used = [("DATASETS.TRAIN", name) for name in cfg.DATASETS.TRAIN] + used
    registered = DatasetCatalog.list()
    for key, name in used:
        if name not in registered:
            close = difflib.get_close_matches(name, registered, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise InputError(f"{key}: dataset {name!r} is not registered{hint}")
        classes = MetadataCatalog.get(name).get("stuff_classes")
        if classes is None:
            raise InputError(f"{key}: dataset {name!r} has no stuff_classes metadata")
        num_classes = cfg.MODEL.SEM_SEG_HEAD.NUM_CLASSES
        if len(classes) != num_classes:
            raise InputError(f"MODEL.SEM_SEG_HEAD.NUM_CLASSES is {num_classes} "
                             f"but dataset {name!r} has {len(classes)} classes")
    for key, name in used:
        records = DatasetCatalog.get(name)  # reads the folders: a missing one is reported now
        if key == "DATASETS.TEST" and not all("sem_seg_file_name" in r for r in records):
            raise InputError(f"{key}: dataset {name!r} has no dense labels to evaluate against")
        uses_image_labels = cfg.MODEL.AGMM.ENABLED and cfg.MODEL.AGMM.ABSENT_FROM == "image_labels"
        if key == "DATASETS.TRAIN" and uses_image_labels:
            lacking = [r["file_name"] for r in records if "image_classes" not in r]
            if lacking:
                raise InputError(
                    f"MODEL.AGMM.ABSENT_FROM is 'image_labels' but {len(lacking)} of "
                    f"{len(records)} images of {name!r} have no image-level labels, e.g. "
                    f"{lacking[0]}; write them with datasets_prep/image_classes.py (README, "
                    "Datasets) or set MODEL.AGMM.ABSENT_FROM sparse")

    weights = cfg.MODEL.WEIGHTS
    resuming = resume and os.path.isfile(os.path.join(cfg.OUTPUT_DIR, "last_checkpoint"))
    if weights and "://" not in weights and not resuming and not os.path.isfile(weights):
        raise InputError(f"MODEL.WEIGHTS {weights!r}: no such file "
                         "(use MODEL.WEIGHTS \"\" to train from scratch)")


def setup(args):
    cfg, notes = build_config(args)
    default_setup(cfg, args)
    for note in notes:
        logger.warning(note)
    return cfg


def main(args):
    cfg = setup(args)
    if args.eval_only:
        model = Trainer.build_model(cfg)
        DetectionCheckpointer(model, save_dir=cfg.OUTPUT_DIR).resume_or_load(
            cfg.MODEL.WEIGHTS, resume=args.resume)
        result = Trainer.test(cfg, model)
    else:
        trainer = Trainer(cfg)
        trainer.resume_or_load(resume=args.resume)
        result = trainer.train()
    _leave_multi_process_run()  # only after success: an error propagates with its traceback
    return result


def _leave_multi_process_run() -> None:
    """In a multi-process run, wait for every process, flush the logs and leave at once.

    With gloo on the CPU, the normal interpreter teardown of a spawned process sometimes
    aborts ("terminate called without an active exception", SIGABRT) after all the work is
    done, which turns a finished run into exit status 1; destroying the process group first
    does not prevent it. Everything is written by now, so skip that teardown.
    """
    if comm.get_world_size() > 1:
        comm.synchronize()
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def cli(argv=None) -> int:
    """Parse ``argv``, check the inputs, then run ``main`` in 1 or more processes; returns the
    exit status (2 with one message on bad input)."""
    args = default_argument_parser().parse_args(argv)
    try:
        cfg, _ = build_config(args)
        check_inputs(cfg, eval_only=args.eval_only, resume=args.resume)
        launch(main, args.num_gpus, num_machines=args.num_machines,
               machine_rank=args.machine_rank, dist_url=args.dist_url, args=(args,))
    except (InputError, DatasetLayoutError) as e:
        print(f"train_net.py: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(cli())
