"""SOLVER.SWA: the trained model is the plain mean of the weights from the start on, the average
survives a resume, and the Trainer places the hook where its result is saved and evaluated."""
import copy
import weakref
from pathlib import Path
from types import SimpleNamespace

import torch
from detectron2.data import DatasetCatalog, MetadataCatalog
from detectron2.engine import SimpleTrainer
from detectron2.engine import hooks as d2_hooks

from agmm_d2.data import register_sparse_sem_seg
from agmm_d2.data.synthetic import CLASSES
from agmm_d2.engine import build_config
from agmm_d2.engine.trainer import Trainer
from agmm_d2.engine.weight_averaging import WeightAveraging

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "synthetic/points_released.yaml"
# The demo architecture, narrower, on 64-px images: seconds per run (as in test_train_net.py).
TINY = {"SOLVER.IMS_PER_BATCH": 4, "INPUT.CROP.SIZE": (64, 64), "DATALOADER.NUM_WORKERS": 0,
        "MODEL.RESNETS.WIDTH_PER_GROUP": 4, "MODEL.RESNETS.RES2_OUT_CHANNELS": 16,
        "MODEL.RESNETS.STEM_OUT_CHANNELS": 8}


class _TinyModel(torch.nn.Module):
    """Linear + BN: x (N, 4) -> {"loss": scalar}, as a detectron2 model in training."""

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(4, 3)
        self.norm = torch.nn.BatchNorm1d(3)

    def forward(self, x):
        return {"loss": (self.norm(self.linear(x)) - 1).pow(2).mean()}


def _batches(seed):
    generator = torch.Generator().manual_seed(seed)
    while True:
        yield torch.randn(8, 4, generator=generator)


class _RecordWeights(d2_hooks.HookBase):
    """Records every parameter and buffer after each step (registered before the averaging)."""

    def __init__(self, model):
        self.model, self.params, self.buffers = model, [], []

    def after_step(self):
        self.params.append([p.detach().clone() for p in self.model.parameters()])
        self.buffers.append([b.clone() for b in self.model.buffers()])


def _train(max_iter, start_iter, seed=0):
    torch.manual_seed(seed)
    model = _TinyModel()
    trainer = SimpleTrainer(model, _batches(seed), torch.optim.SGD(model.parameters(), lr=0.1,
                                                                     momentum=0.9))
    record = _RecordWeights(model)
    trainer.register_hooks([record, WeightAveraging(model, start_iter)])
    trainer.train(0, max_iter)
    return model, record


def test_the_model_ends_as_the_plain_mean_of_the_weights_from_start_iter():
    model, record = _train(max_iter=12, start_iter=5)
    for i, param in enumerate(model.parameters()):
        reference = torch.stack([step[i] for step in record.params[5:]]).mean(0)
        assert torch.allclose(param, reference, atol=1e-6)
    assert not torch.allclose(model.linear.weight, record.params[-1][0])  # not the last iterate
    for i, buffer in enumerate(model.buffers()):  # BN statistics: left for PreciseBN
        assert torch.equal(buffer, record.buffers[-1][i])


def test_start_at_the_last_iteration_keeps_the_last_weights():
    model, record = _train(max_iter=6, start_iter=5)
    for i, param in enumerate(model.parameters()):
        assert torch.allclose(param, record.params[-1][i])


def _steps(model, hook, steps, iterations, max_iter):
    """Add ``steps[i]`` to the weights, then show the hook iteration i, for i in ``iterations``."""
    for iteration in iterations:
        with torch.no_grad():
            for p, delta in zip(model.parameters(), steps[iteration]):
                p.add_(delta)
        hook.trainer = SimpleNamespace(iter=iteration, max_iter=max_iter)
        hook.after_step()


def test_resume_restores_the_running_mean():
    torch.manual_seed(0)
    model = _TinyModel()
    initial = copy.deepcopy(model.state_dict())
    steps = [[torch.randn(p.shape) for p in model.parameters()] for _ in range(8)]
    straight = WeightAveraging(model, start_iter=2)
    _steps(model, straight, steps, range(8), max_iter=8)

    # The same steps, stopped after iteration 4 and resumed from what a checkpoint holds.
    before_model = _TinyModel()
    before_model.load_state_dict(initial)
    before = WeightAveraging(before_model, start_iter=2)
    _steps(before_model, before, steps, range(2), max_iter=8)
    assert before.state_dict() == {}  # nothing averaged yet: the checkpoint stays small
    _steps(before_model, before, steps, range(2, 5), max_iter=8)
    checkpoint = {"model": copy.deepcopy(before_model.state_dict()),
                  "hook": copy.deepcopy(before.state_dict())}

    resumed_model = _TinyModel()
    resumed_model.load_state_dict(checkpoint["model"])
    resumed = WeightAveraging(resumed_model, start_iter=2)
    resumed.load_state_dict(checkpoint["hook"])
    assert resumed.num_averaged == 3
    _steps(resumed_model, resumed, steps, range(5, 8), max_iter=8)
    for p_straight, p_resumed in zip(model.parameters(), resumed_model.parameters()):
        assert torch.allclose(p_straight, p_resumed, atol=1e-6)


def test_trainer_saves_and_evaluates_the_averaged_weights(tiny_synthetic, tmp_path, monkeypatch):
    """In the Trainer the hook runs before PreciseBN, the checkpointer and the evaluation:
    model_final.pth holds the mean of the weights of iterations 1-3 (START_FRACTION 0.25 of 4)
    and batch-norm statistics re-estimated for them; a resumed run continues the average."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    root = tiny_synthetic / "agmm_synthetic"
    register_sparse_sem_seg("swa_train", root / "images" / "train", root / "point" / "train",
                            classes=CLASSES, image_ext=".png")
    register_sparse_sem_seg("swa_val", root / "images" / "val", None, root / "dense" / "val",
                            classes=CLASSES, image_ext=".png")
    try:
        cfg = build_config(CONFIG, {
            **TINY, "SOLVER.MAX_ITER": 4, "SOLVER.SWA.ENABLED": True,
            "SOLVER.SWA.START_FRACTION": 0.25, "TEST.PRECISE_BN.ENABLED": True,
            "TEST.PRECISE_BN.NUM_ITER": 2, "SOLVER.CHECKPOINT_PERIOD": 3,
            "DATASETS.TRAIN": ("swa_train",), "DATASETS.TEST": ("swa_val",),
            "OUTPUT_DIR": str(tmp_path / "run")})
        trainer = Trainer(cfg)
        order = [type(h).__name__ for h in trainer._hooks]
        assert (order.index("WeightAveraging") < order.index("PreciseBN")
                < order.index("PeriodicCheckpointer") < order.index("EvalHook")), order
        record = _RecordWeights(trainer.model)
        record.trainer = weakref.proxy(trainer)
        trainer._hooks.insert(0, record)  # sees each step's weights before the averaging
        trainer.resume_or_load(resume=False)
        trainer.train()
        # --resume from the checkpoint of iteration 2 restores the average of iterations 1-2.
        (tmp_path / "run" / "last_checkpoint").write_text("model_0000002.pth")
        resumed = Trainer(cfg)
        resumed.resume_or_load(resume=True)
    finally:
        for name in ("swa_train", "swa_val"):
            DatasetCatalog.remove(name)
            MetadataCatalog.remove(name)
    assert "mIoU" in trainer._last_eval_results["sem_seg"]  # what EvalHook computed last
    saved = torch.load(tmp_path / "run" / "model_final.pth", weights_only=False)["model"]
    for i, (name, _) in enumerate(trainer.model.named_parameters()):
        reference = torch.stack([step[i] for step in record.params[1:]]).mean(0)
        assert torch.allclose(saved[name], reference, atol=1e-6), name
    buffers = dict(trainer.model.named_buffers())
    means = [n for n in buffers if n.endswith("running_mean")]
    last = dict(zip(buffers, record.buffers[-1]))
    assert any(not torch.allclose(saved[n], last[n]) for n in means)  # re-estimated by PreciseBN

    averaging = next(h for h in resumed._hooks if isinstance(h, WeightAveraging))
    assert resumed.start_iter == 3 and averaging.num_averaged == 2
    average = averaging.state_dict()  # what the checkpoint holds: "module.<name>" per parameter
    for i, (name, _) in enumerate(resumed.model.named_parameters()):
        reference = torch.stack([step[i] for step in record.params[1:3]]).mean(0)
        assert torch.allclose(average[f"module.{name}"], reference, atol=1e-6)
