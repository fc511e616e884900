"""The Trainer: detectron2's DefaultTrainer with what training from sparse labels needs."""
import logging
import os
import weakref

import torch
from detectron2.data import build_detection_train_loader
from detectron2.engine import (AMPTrainer, DefaultTrainer, SimpleTrainer, TrainerBase,
                               create_ddp_model)
from detectron2.projects.deeplab import build_lr_scheduler
from detectron2.solver.build import get_default_optimizer_params, maybe_add_gradient_clipping
from detectron2.utils import comm

from ..data.sparse_mapper import SparseSemSegDatasetMapper
from ..evaluation import CheckedSemSegEvaluator, format_iou_table
from .checkpoint import GuardedCheckpointer
from .progress import TrainingProgressBar, with_progress_bar

__all__ = ["OPTIMIZERS", "Trainer", "train_or_evaluate"]

# SOLVER.OPTIMIZER
OPTIMIZERS = ("SGD", "ADAMW")
# What a resumed learning-rate scheduler takes from the checkpoint: where it is, not its shape.
SCHEDULE_POSITION = ("last_epoch", "_step_count", "_last_lr")

logger = logging.getLogger(__name__)


class Trainer(DefaultTrainer):
    """DefaultTrainer with the sparse-label mapper, a checked SemSegEvaluator, a head lr
    multiplier, the poly schedule, a guarded checkpointer, and DistributedDataParallel on the CPU.

    ``show_progress`` (a class attribute, False here) adds progress bars of training and
    evaluation in the main process: the Python API sets it, the command line keeps the log.
    """

    show_progress = False

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
        # MODEL.WEIGHTS may hold only part of the model (an ImageNet backbone).
        self.checkpointer = GuardedCheckpointer(model, cfg.OUTPUT_DIR, expect_complete=False,
                                                trainer=weakref.proxy(self))
        self.start_iter = 0
        self.max_iter = cfg.SOLVER.MAX_ITER
        self.cfg = cfg
        self.register_hooks(self.build_hooks())

    def build_hooks(self):
        hooks = super().build_hooks()
        if self.show_progress and comm.is_main_process():
            hooks.append(TrainingProgressBar())
        return hooks

    def load_state_dict(self, state_dict):
        """Resume from a checkpoint's state, except the learning-rate schedule's definition: the
        config's (e.g. a larger SOLVER.MAX_ITER) replaces the one saved, only the position in it
        (the iteration) is restored. The saved one would end at the old MAX_ITER, beyond which
        the poly schedule is undefined."""
        configured = self.scheduler.state_dict()
        super().load_state_dict(state_dict)
        restored = self.scheduler.state_dict()
        self.scheduler.load_state_dict(
            {**configured, **{k: restored[k] for k in SCHEDULE_POSITION if k in restored}})

    @classmethod
    def build_train_loader(cls, cfg):
        mapper = SparseSemSegDatasetMapper(cfg, is_train=True)
        return build_detection_train_loader(cfg, mapper=mapper)

    @classmethod
    def build_test_loader(cls, cfg, dataset_name):
        loader = super().build_test_loader(cfg, dataset_name)
        if cls.show_progress and comm.is_main_process():
            return with_progress_bar(loader, f"evaluate {dataset_name}")
        return loader

    @classmethod
    def build_evaluator(cls, cfg, dataset_name, output_folder=None):
        output_folder = output_folder or os.path.join(cfg.OUTPUT_DIR, "inference", dataset_name)
        return CheckedSemSegEvaluator(dataset_name, distributed=True, output_dir=output_folder,
                                      out_of_range=cfg.TEST.OUT_OF_RANGE_LABELS)

    @classmethod
    def build_optimizer(cls, cfg, model):
        """SGD or AdamW (SOLVER.OPTIMIZER); the backbone at SOLVER.BASE_LR, everything else at
        BASE_LR x HEAD_LR_MULTIPLIER."""
        head_factor = cfg.SOLVER.HEAD_LR_MULTIPLIER
        params = get_default_optimizer_params(
            model,
            base_lr=cfg.SOLVER.BASE_LR,
            weight_decay_norm=cfg.SOLVER.WEIGHT_DECAY_NORM,
            bias_lr_factor=cfg.SOLVER.BIAS_LR_FACTOR,
            weight_decay_bias=cfg.SOLVER.WEIGHT_DECAY_BIAS,
            lr_factor_func=lambda name: 1.0 if name.startswith("backbone.") else head_factor,
        )
        if cfg.SOLVER.OPTIMIZER == "ADAMW":
            return maybe_add_gradient_clipping(cfg, torch.optim.AdamW)(
                params, lr=cfg.SOLVER.BASE_LR, weight_decay=cfg.SOLVER.WEIGHT_DECAY)
        return maybe_add_gradient_clipping(cfg, torch.optim.SGD)(
            params, lr=cfg.SOLVER.BASE_LR, momentum=cfg.SOLVER.MOMENTUM,
            nesterov=cfg.SOLVER.NESTEROV, weight_decay=cfg.SOLVER.WEIGHT_DECAY)

    @classmethod
    def build_lr_scheduler(cls, cfg, optimizer):
        # detectron2's DeepLab project adds WarmupPolyLR (SOLVER.POLY_LR_POWER) to the built-ins.
        return build_lr_scheduler(cfg, optimizer)

    @classmethod
    def test(cls, cfg, model, evaluators=None):
        """DefaultTrainer.test, then the mIoU table of each test set in the log."""
        results = super().test(cfg, model, evaluators)
        if comm.is_main_process():
            by_dataset = {cfg.DATASETS.TEST[0]: results} if len(cfg.DATASETS.TEST) == 1 else results
            table_logger = logging.getLogger("detectron2")
            for name, result in by_dataset.items():
                table_logger.info("%s", format_iou_table(name, result["sem_seg"]))
        return results


def train_or_evaluate(cfg, *, eval_only: bool, resume: bool, trainer_class=Trainer):
    """Train ``cfg`` (and evaluate at the end), or evaluate ``MODEL.WEIGHTS``, in this process
    (one process of a multi-process run). ``cfg`` comes from ``setup_run``.

    Returns the evaluation results: ``{"sem_seg": {"mIoU": ..., ...}}`` for one test set, a dict
    of those by dataset name for several.
    """
    if eval_only:
        model = trainer_class.build_model(cfg)
        GuardedCheckpointer(model, save_dir=cfg.OUTPUT_DIR).resume_or_load(
            cfg.MODEL.WEIGHTS, resume=resume)
        return trainer_class.test(cfg, model)
    trainer = trainer_class(cfg)
    trainer.resume_or_load(resume=resume)
    return trainer.train()
