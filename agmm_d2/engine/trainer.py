"""The Trainer: detectron2's DefaultTrainer with what training from sparse labels needs."""
import logging
import os
import weakref

import torch
from detectron2.data import MetadataCatalog, build_detection_train_loader
from detectron2.engine import (AMPTrainer, DefaultTrainer, SimpleTrainer, TrainerBase,
                               create_ddp_model)
from detectron2.projects.deeplab import build_lr_scheduler
from detectron2.solver.build import get_default_optimizer_params, maybe_add_gradient_clipping
from detectron2.utils import comm

from ..data.sparse_mapper import SparseSemSegDatasetMapper
from ..evaluation import RESULT_TABLES, CheckedSemSegEvaluator, SparseSemSegEvaluator
from .checkpoint import GuardedCheckpointer
from .progress import TrainingProgressBar, with_progress_bar

__all__ = ["EVALUATORS", "OPTIMIZERS", "Trainer", "train_or_evaluate"]

# SOLVER.OPTIMIZER
OPTIMIZERS = ("SGD", "ADAMW")

# A dataset's metadata evaluator_type -> its evaluator, built from (cfg, dataset, output folder).
# register_sparse_sem_seg sets "sparse_sem_seg" for a dataset without dense labels.
EVALUATORS = {
    "sem_seg": lambda cfg, name, folder: CheckedSemSegEvaluator(
        name, distributed=True, output_dir=folder, out_of_range=cfg.TEST.OUT_OF_RANGE_LABELS),
    "sparse_sem_seg": lambda cfg, name, folder: SparseSemSegEvaluator(
        name, distributed=True, output_dir=folder),
}

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
        kind = MetadataCatalog.get(dataset_name).get("evaluator_type", "sem_seg")
        return EVALUATORS[kind](cfg, dataset_name, output_folder)

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
        """DefaultTrainer.test, then the table of each test set in the log (mIoU, or the
        scores on annotated pixels of a sparse set); a run with no test set says so."""
        table_logger = logging.getLogger("detectron2")
        if not cfg.DATASETS.TEST:
            if comm.is_main_process():
                table_logger.info("nothing was evaluated: DATASETS.TEST is empty")
            return {}
        results = super().test(cfg, model, evaluators)
        if comm.is_main_process():
            by_dataset = {cfg.DATASETS.TEST[0]: results} if len(cfg.DATASETS.TEST) == 1 else results
            for name, result in by_dataset.items():
                for key, metrics in result.items():
                    table_logger.info("%s", RESULT_TABLES[key](name, metrics))
        return results


def train_or_evaluate(cfg, *, eval_only: bool, resume: bool, trainer_class=Trainer):
    """Train ``cfg`` (and evaluate at the end), or evaluate ``MODEL.WEIGHTS``, in this process
    (one process of a multi-process run). ``cfg`` comes from ``setup_run``.

    Returns the evaluation results: ``{"sem_seg": {"mIoU": ..., ...}}`` for one test set
    (``{"sparse_sem_seg": {"mIoU_annotated_pixels": ...}}`` for one without dense labels), a
    dict of those by dataset name for several, ``{}`` for none.
    """
    if eval_only:
        model = trainer_class.build_model(cfg)
        GuardedCheckpointer(model, save_dir=cfg.OUTPUT_DIR).resume_or_load(
            cfg.MODEL.WEIGHTS, resume=resume)
        return trainer_class.test(cfg, model)
    trainer = trainer_class(cfg)
    trainer.resume_or_load(resume=resume)
    return trainer.train()
