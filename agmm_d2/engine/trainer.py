"""The Trainer: detectron2's DefaultTrainer with what training from sparse labels needs."""
import contextlib
import logging
import os
import weakref

import torch
from detectron2.data import MetadataCatalog, build_detection_train_loader
from detectron2.engine import DefaultTrainer, create_ddp_model
from detectron2.engine import defaults as d2_defaults
from detectron2.engine import hooks as d2_hooks
from detectron2.projects.deeplab import build_lr_scheduler
from detectron2.solver.build import get_default_optimizer_params, maybe_add_gradient_clipping
from detectron2.utils import comm

from ..data.mapper import SparseSemSegDatasetMapper
from ..evaluation import RESULT_TABLES, CheckedSemSegEvaluator, SparseSemSegEvaluator
from .amp import build_step_trainer
from .checkpoint import GuardedCheckpointer
from .progress import TrainingProgressBar, with_progress_bar
from .weight_averaging import WeightAveraging

__all__ = ["EVALUATORS", "Trainer", "train_or_evaluate"]

# A dataset's metadata evaluator_type -> its evaluator, built from (cfg, dataset, output folder).
# register_sparse_sem_seg sets "sparse_sem_seg" for a dataset without dense labels.
EVALUATORS = {
    "sem_seg": lambda cfg, name, folder: CheckedSemSegEvaluator(
        name, distributed=True, output_dir=folder, out_of_range=cfg.TEST.OUT_OF_RANGE_LABELS),
    "sparse_sem_seg": lambda cfg, name, folder: SparseSemSegEvaluator(
        name, distributed=True, output_dir=folder),
}
# What a resumed learning-rate scheduler takes from the checkpoint: where it is, not its shape.
SCHEDULE_POSITION = ("last_epoch", "_step_count", "_last_lr")

logger = logging.getLogger(__name__)


def _cpu_aware_create_ddp_model(model, **kwargs):
    """detectron2's create_ddp_model, with device_ids=None for a module on the CPU."""
    if next(model.parameters()).device.type == "cpu":
        kwargs.setdefault("device_ids", None)
    return create_ddp_model(model, **kwargs)


@contextlib.contextmanager
def _detectron2_init_patches(cfg):
    """Within: DefaultTrainer.__init__'s create_ddp_model is ``_cpu_aware_create_ddp_model``, and
    its AMPTrainer (built when SOLVER.AMP.ENABLED) is ``build_step_trainer``'s choice: AMPTrainer
    on CUDA, bfloat16 autocast on the CPU."""
    originals = d2_defaults.create_ddp_model, d2_defaults.AMPTrainer
    d2_defaults.create_ddp_model = _cpu_aware_create_ddp_model
    d2_defaults.AMPTrainer = lambda model, loader, optimizer: build_step_trainer(
        cfg, model, loader, optimizer)
    try:
        yield
    finally:
        d2_defaults.create_ddp_model, d2_defaults.AMPTrainer = originals


class Trainer(DefaultTrainer):
    """DefaultTrainer with the sparse-label mapper, a checked SemSegEvaluator, a head lr
    multiplier, the poly schedule, a guarded checkpointer, DistributedDataParallel on the CPU,
    mixed precision on the CPU too (``agmm_d2.engine.amp``) and weight averaging (SOLVER.SWA).

    ``show_progress`` (a class attribute, False here) adds progress bars of training and
    evaluation in the main process: the Python API sets it, the command line keeps the log.
    """

    show_progress = False

    def __init__(self, cfg):
        # DefaultTrainer.__init__ as it is, except for two names it looks up. detectron2 v0.6
        # (detectron2/engine/defaults.py, DefaultTrainer.__init__) wraps the model with
        # ``model = create_ddp_model(model, broadcast_buffers=False)``, and create_ddp_model
        # passes device_ids=[local_rank], which DDP rejects for a CPU module; and it builds
        # ``(AMPTrainer if cfg.SOLVER.AMP.ENABLED else SimpleTrainer)(model, data_loader,
        # optimizer)``, whose AMPTrainer autocasts CUDA only. Both are routed through this
        # module's choices while detectron2's __init__ runs.
        with _detectron2_init_patches(cfg):
            super().__init__(cfg)

    def build_hooks(self):
        # MODEL.WEIGHTS may hold only part of the model (an ImageNet backbone): DefaultTrainer's
        # DetectionCheckpointer becomes the guarded one before the hooks that save with it exist.
        self.checkpointer = GuardedCheckpointer(self.checkpointer.model, self.cfg.OUTPUT_DIR,
                                                expect_complete=False,
                                                trainer=weakref.proxy(self))
        hooks = super().build_hooks()
        if self.cfg.SOLVER.SWA.ENABLED:
            # Before PreciseBN, the checkpointer and evaluation: on the last step they re-estimate
            # the batch-norm statistics of, save and evaluate the averaged weights.
            first_after = next(i for i, h in enumerate(hooks) if isinstance(
                h, (d2_hooks.PreciseBN, d2_hooks.PeriodicCheckpointer, d2_hooks.EvalHook)))
            start = int(self.cfg.SOLVER.SWA.START_FRACTION * self.cfg.SOLVER.MAX_ITER)
            hooks.insert(first_after, WeightAveraging(self.model, start))
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
        if cfg.SOLVER.OPTIMIZER == "SGD":
            return maybe_add_gradient_clipping(cfg, torch.optim.SGD)(
                params, lr=cfg.SOLVER.BASE_LR, momentum=cfg.SOLVER.MOMENTUM,
                nesterov=cfg.SOLVER.NESTEROV, weight_decay=cfg.SOLVER.WEIGHT_DECAY)
        raise NotImplementedError(f"SOLVER.OPTIMIZER {cfg.SOLVER.OPTIMIZER!r}: no such optimizer")

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
