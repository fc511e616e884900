"""Mixed precision: the AGMM Functions under autocast (bfloat16 on the CPU, float16 on CUDA),
and a short SOLVER.AMP.ENABLED training on the CPU.

Tolerances, and why:
- Same inputs, rounded once to the low-precision dtype: the loss values must equal the float32
  computation on those rounded inputs to 1e-5 relative (every reduction runs in float32); a
  Function that reduced in bfloat16 misses this by orders of magnitude (relative error ~4e-3).
- The gradients of the low-precision inputs are the float32 gradients rounded once to that dtype:
  within 2 ulps, 8e-3 relative for bfloat16 (8 significant bits), 1e-3 for float16.
- Against float32 inputs: the rounding of the inputs alone moves the values by < 3e-2 relative.
"""
import json

import pytest
import torch

from agmm_d2.api import build_config, train
from agmm_d2.modeling.agmm_loss import TERMS, agmm_loss
from agmm_d2.modeling.agmm_ops import ImagePlan, dense_terms, prototype_distances

KEYS = ["loss_" + t for t in TERMS]
# Relative tolerance of a gradient rounded once to the dtype (2 ulps).
GRAD_RTOL = {torch.bfloat16: 8e-3, torch.float16: 1e-3}


def _batch(device="cpu", seed=0, B=2, K=5, C=8, H=33, W=37, h=9, w=10):
    """Random float32 features, logits and a sparse target with some padding."""
    g = torch.Generator().manual_seed(seed)
    features = 0.5 * torch.randn(B, C, h, w, generator=g)
    logits = 2 * torch.randn(B, K, H, W, generator=g)
    targets = torch.full((B, H, W), 255, dtype=torch.long)
    pick = torch.rand(B, H, W, generator=g) < 0.08
    targets[pick] = torch.randint(0, K - 1, (int(pick.sum()),), generator=g)
    valid = torch.ones(B, H, W, dtype=torch.bool)
    valid[1, H - 5:] = False
    targets[~valid] = 255
    presence = torch.zeros(B, K)
    presence[:, : K - 1] = 1
    return [x.to(device) for x in (features, logits, targets, valid, presence)]


def _terms_and_grads(features, logits, rest, low_dtype=None):
    """AGMM values and the gradients at the float32 leaves ``features`` and ``logits``; with
    ``low_dtype``, the leaves enter as autocast would give them: cast to it, autocast on."""
    features = features.detach().requires_grad_()
    logits = logits.detach().requires_grad_()
    device = features.device.type
    with torch.autocast(device, dtype=low_dtype or torch.bfloat16, enabled=low_dtype is not None):
        f = features.to(low_dtype) if low_dtype else features
        z = logits.to(low_dtype) if low_dtype else logits
        out = agmm_loss(f, z, *rest)
    sum(out.values()).backward()
    return {k: v.detach() for k, v in out.items()}, features.grad, logits.grad


def _rounded(x, dtype):
    return x.to(dtype).float()


def _check_autocast_matches_float32(device, dtype):
    features, logits, *rest = _batch(device)
    low, g_f, g_z = _terms_and_grads(features, logits, rest, dtype)
    # float32 on the inputs rounded to ``dtype``: what the float32 reductions must reproduce.
    same, g_f_same, g_z_same = _terms_and_grads(_rounded(features, dtype), _rounded(logits, dtype),
                                                rest)
    full, _, _ = _terms_and_grads(features, logits, rest)
    for k in KEYS:
        assert low[k].dtype == torch.float32, k
        torch.testing.assert_close(low[k], same[k], rtol=1e-5, atol=1e-7, msg=k)
        torch.testing.assert_close(low[k], full[k], rtol=3e-2, atol=1e-4, msg=k)
    # The leaves' gradients went through one rounding to ``dtype`` (the Functions' outputs).
    atol = 1e-3 * float(g_z_same.abs().max())
    torch.testing.assert_close(g_z, g_z_same, rtol=GRAD_RTOL[dtype], atol=atol)
    atol = 1e-3 * float(g_f_same.abs().max())
    torch.testing.assert_close(g_f, g_f_same, rtol=GRAD_RTOL[dtype], atol=atol)


def test_bf16_autocast_matches_float32_values_and_gradients():
    _check_autocast_matches_float32("cpu", torch.bfloat16)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (float16 autocast)")
def test_fp16_cuda_autocast_matches_float32_values_and_gradients():
    _check_autocast_matches_float32("cuda", torch.float16)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (float16 autocast)")
def test_fp16_cuda_scaled_backward_unscales_to_float32_gradients():
    """With a GradScaler's factor on the loss, the unscaled float16-path gradients equal the
    float32 ones within float16 rounding, and are finite."""
    features, logits, *rest = _batch("cuda")
    _, g_f_ref, g_z_ref = _terms_and_grads(_rounded(features, torch.float16),
                                           _rounded(logits, torch.float16), rest)
    scaler = torch.amp.GradScaler("cuda", init_scale=2.0 ** 10)
    leaves = [features.detach().requires_grad_(), logits.detach().requires_grad_()]
    with torch.autocast("cuda", dtype=torch.float16):
        out = agmm_loss(leaves[0].half(), leaves[1].half(), *rest)
    scaler.scale(sum(out.values())).backward()
    for leaf, ref in zip(leaves, (g_f_ref, g_z_ref)):
        grad = leaf.grad / scaler.get_scale()
        assert torch.isfinite(grad).all()
        torch.testing.assert_close(grad, ref, rtol=1e-3, atol=1e-3 * float(ref.abs().max()))


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_functions_take_low_precision_and_return_its_gradients(dtype):
    """Called directly, under CPU autocast, with low-precision tensors: float32 outputs equal to
    the float32 computation on the same values, gradients in the inputs' dtype."""
    features, logits, targets, valid, _ = _batch()
    B, C = features.shape[:2]
    hw = features[0, 0].numel()
    splats = [torch.rand(3, hw, generator=torch.Generator().manual_seed(b)) / hw for b in range(B)]
    plans = [ImagePlan(valid=valid[b].flatten().float(), ann_pix=torch.tensor([3, 40, 77]),
                       ann_cls=torch.tensor([0, 2, 1]), absent_coef=torch.tensor([0., 0, 0, 1, 1]),
                       present=torch.tensor([0, 1, 2]), gmm_coef=torch.full((3,), 1 / 3))
             for b in range(B)]
    r_low = torch.rand(B, 5, *features.shape[-2:])

    def run(f, z, r, low):
        f, z, r = (x.detach().requires_grad_() for x in (f, z, r))
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=low):
            protos, dists = prototype_distances(f.flatten(2), splats)
            terms = dense_terms(z, r, plans, torch.float32, True, True)
        (protos.sum() + dists.sum() + sum(terms)).backward()
        return [protos, dists, *terms], [f.grad, z.grad, r.grad]

    low_out, low_grads = run(features.to(dtype), logits.to(dtype), r_low.to(dtype), True)
    ref_out, ref_grads = run(*(_rounded(x, dtype) for x in (features, logits, r_low)), False)
    for a, b in zip(low_out, ref_out):
        assert a.dtype == torch.float32
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    for a, b in zip(low_grads, ref_grads):
        assert a.dtype == dtype
        torch.testing.assert_close(a.float(), b, rtol=GRAD_RTOL[dtype],
                                   atol=1e-3 * float(b.abs().max()))


TINY = {"SOLVER.IMS_PER_BATCH": 2, "INPUT.CROP.SIZE": (48, 48), "DATALOADER.NUM_WORKERS": 0,
        "MODEL.RESNETS.WIDTH_PER_GROUP": 4, "MODEL.RESNETS.RES2_OUT_CHANNELS": 16,
        "MODEL.RESNETS.STEM_OUT_CHANNELS": 8}


def _losses(metrics_file):
    rows = [json.loads(line) for line in metrics_file.read_text().splitlines()]
    return [r["total_loss"] for r in rows if "total_loss" in r]


@pytest.mark.slow
def test_cpu_amp_demo_training_runs_and_its_loss_falls(tiny_synthetic, tmp_path, monkeypatch):
    """50 iterations of the demo (tiny) with SOLVER.AMP.ENABLED on the CPU: bfloat16 steps with
    all AGMM terms, finite losses, and the loss of the last iterations below the first ones'."""
    monkeypatch.setenv("DETECTRON2_DATASETS", str(tiny_synthetic))
    cfg = build_config("configs/synthetic/demo.yaml", {
        **TINY, "SOLVER.AMP.ENABLED": True, "SOLVER.MAX_ITER": 50, "DATASETS.TEST": (),
        "SOLVER.CHECKPOINT_PERIOD": 1000, "OUTPUT_DIR": str(tmp_path)})
    train(cfg, progress=False, check_data=False)
    log = (tmp_path / "log.txt").read_text()
    assert "bfloat16 autocast on the CPU" in log
    # detectron2 writes metrics.json every 20 iterations, each total_loss a 20-iteration median.
    losses = _losses(tmp_path / "metrics.json")
    assert len(losses) == 3 and torch.isfinite(torch.tensor(losses)).all()
    assert losses[-1] < losses[0], losses


class _Doubler(torch.nn.Module):
    """A model whose loss records the autocast state of its forward pass."""

    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(4, 4))
        self.seen = []

    def forward(self, batch):
        self.seen.append((torch.is_autocast_enabled("cpu"), torch.get_autocast_dtype("cpu")))
        out = torch.mm(batch, self.weight)  # autocast casts mm to bfloat16
        return {"loss_x": out.float().square().mean()}


def test_amp_on_the_cpu_steps_under_bfloat16_autocast_without_a_scaler():
    from detectron2.config import CfgNode
    from detectron2.engine import SimpleTrainer
    from detectron2.utils.events import EventStorage

    from agmm_d2.engine.amp import CPUAutocastTrainer, build_step_trainer

    model = _Doubler()
    data = iter([torch.randn(3, 4)] * 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    cfg = CfgNode({"SOLVER": {"AMP": {"ENABLED": False}}})
    assert type(build_step_trainer(cfg, model, data, optimizer)) is SimpleTrainer
    cfg.SOLVER.AMP.ENABLED = True
    trainer = build_step_trainer(cfg, model, data, optimizer)
    assert isinstance(trainer, CPUAutocastTrainer) and not hasattr(trainer, "grad_scaler")
    before = model.weight.detach().clone()
    with EventStorage(0):
        trainer.iter = 0
        trainer.run_step()
    assert model.seen == [(True, torch.bfloat16)]
    assert model.weight.dtype == torch.float32 and not torch.equal(model.weight, before)
    assert not torch.is_autocast_enabled("cpu")  # the backward and the update ran without it
