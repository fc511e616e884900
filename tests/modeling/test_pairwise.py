"""The Gated CRF pairwise term against a plain double loop written from docs/method.md
(Section 10), values and gradients in float64; mutations of the fast code must fail the check."""
import math

import pytest
import torch

from agmm_d2.modeling import pairwise
from agmm_d2.modeling.pairwise import PairwiseLoss, gated_crf_loss
from tests.modeling.test_model import tiny_model


# ----------------------------------------------------------------------------------------------
# The reference: loops over cells, and over each cell's window of neighbours.
# ----------------------------------------------------------------------------------------------
def ref_cells(probs, images, valid, d):
    """Per (b, cy, cx): the mean probabilities and colour over the cell's valid pixels (0 if
    none) and the cell's valid fraction g."""
    B, K, H, W = probs.shape
    cells = {}
    for b in range(B):
        for cy in range(math.ceil(H / d)):
            for cx in range(math.ceil(W / d)):
                pixels = [(y, x) for y in range(cy * d, min(cy * d + d, H))
                          for x in range(cx * d, min(cx * d + d, W)) if valid[b, y, x]]
                if pixels:
                    y_mean = sum(probs[b, :, y, x] for y, x in pixels) / len(pixels)
                    i_mean = sum(images[b, :, y, x] for y, x in pixels) / len(pixels)
                else:
                    y_mean, i_mean = probs.new_zeros(K), images.new_zeros(3)
                cells[b, cy, cx] = (y_mean, i_mean, len(pixels) / d ** 2)
    return cells


def ref_gated_crf(probs, images, valid, radius, sigma_xy, sigma_rgb, d):
    cells = ref_cells(probs, images, valid, d)
    total, n_valid = probs.new_zeros(()), 0.0
    for (b, cy, cx), (y_i, rgb_i, g_i) in cells.items():
        n_valid += g_i
        for dy in range(-radius, radius + 1):
            for dx in range(-radius, radius + 1):
                if (dy, dx) == (0, 0) or (b, cy + dy, cx + dx) not in cells:
                    continue
                y_j, rgb_j, g_j = cells[b, cy + dy, cx + dx]
                k = torch.exp(-(dy * dy + dx * dx) / (2 * sigma_xy ** 2)
                              - ((rgb_i - rgb_j) ** 2).sum() / (2 * sigma_rgb ** 2))
                total = total + g_i * g_j * k * (1 - (y_i * y_j).sum())
    return total / n_valid if n_valid > 0 else total


def make_inputs(B, K, H, W, seed, *, pad=True, holes=False):
    """Probabilities, colours around mid-grey (so that the colour kernel varies), valid mask
    with bottom/right padding (and optionally scattered invalid pixels)."""
    g = torch.Generator().manual_seed(seed)
    logits = 2 * torch.randn(B, K, H, W, generator=g, dtype=torch.float64)
    images = (128 + 40 * torch.randn(B, 3, H, W, generator=g, dtype=torch.float64)).clamp(0, 255)
    valid = torch.ones(B, H, W, dtype=torch.bool)
    if pad:
        for b in range(B):
            valid[b, H - int(torch.randint(1, H // 3 + 2, (1,), generator=g)):] = False
            valid[b, :, W - int(torch.randint(0, W // 3 + 1, (1,), generator=g)):] = False
    if holes:
        valid &= torch.rand(B, H, W, generator=g) > 0.2
    return logits, images, valid


# (B, K, H, W, radius, downscale): sizes that are not multiples of the cell, windows wider
# than the image (every cell at the border), no downscaling, a cell of 4.
CASES = [
    (2, 3, 13, 10, 2, 3),
    (1, 4, 8, 8, 1, 1),
    (2, 2, 11, 7, 3, 2),
    (1, 3, 9, 12, 1, 4),
]
OPTIONS = {"sigma_xy": 1.7, "sigma_rgb": 45.0}


def check(case, seed, **make):
    B, K, H, W, radius, d = case
    logits, images, valid = make_inputs(B, K, H, W, seed, **make)
    probs = logits.softmax(1).requires_grad_()
    fast = gated_crf_loss(probs, images, valid, radius=radius, downscale=d, **OPTIONS)
    ref = ref_gated_crf(probs, images, valid, radius, d=d, **OPTIONS)
    (g_fast,) = torch.autograd.grad(fast, probs)
    (g_ref,) = torch.autograd.grad(ref, probs)
    assert fast.dtype == torch.float64
    torch.testing.assert_close(fast, ref, rtol=1e-9, atol=1e-12, msg="value")
    torch.testing.assert_close(g_fast, g_ref, rtol=1e-9, atol=1e-12, msg="gradient")
    return fast


@pytest.mark.parametrize("case", CASES, ids=lambda c: "x".join(map(str, c)))
def test_matches_reference(case):
    assert check(case, seed=CASES.index(case)) > 0


def test_matches_reference_with_holes_in_the_mask():
    check(CASES[0], seed=11, holes=True)
    check(CASES[2], seed=12, pad=False, holes=True)


def test_logit_gradients_through_the_module():
    logits, images, valid = make_inputs(2, 3, 13, 10, seed=13)
    logits.requires_grad_()
    loss = PairwiseLoss(weight=0.3, radius=2, downscale=3, **OPTIONS)(logits, images, valid)
    ref = 0.3 * ref_gated_crf(logits.softmax(1), images, valid, 2, d=3, **OPTIONS)
    assert set(loss) == {"loss_pairwise"}
    torch.testing.assert_close(loss["loss_pairwise"], ref, rtol=1e-9, atol=1e-12)
    g_fast, g_ref = (torch.autograd.grad(x, logits)[0] for x in (loss["loss_pairwise"], ref))
    torch.testing.assert_close(g_fast, g_ref, rtol=1e-9, atol=1e-12)


# ----------------------------------------------------------------------------------------------
# Mutations: each breaks one part of the formula in the fast code; the check must notice.
# ----------------------------------------------------------------------------------------------
def _no_gate(downscale_masked):
    def mutated(x, valid, factor):
        x_low, gate = downscale_masked(x, valid, factor)
        return x_low, torch.ones_like(gate)
    return mutated


_kernel = pairwise.pair_kernel
MUTATIONS = {
    "gate dropped": ("downscale_masked", _no_gate(pairwise.downscale_masked)),
    "colour term dropped": ("pair_kernel", lambda p, c, sxy, srgb: torch.exp(-p / (2 * sxy ** 2))),
    "position term dropped": ("pair_kernel",
                              lambda p, c, sxy, srgb: torch.exp(-c / (2 * srgb ** 2))),
    "bandwidths swapped": ("pair_kernel", lambda p, c, sxy, srgb: _kernel(p, c, srgb, sxy)),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_mutations_fail_the_check(monkeypatch, name):
    attribute, mutated = MUTATIONS[name]
    monkeypatch.setattr(pairwise, attribute, mutated)
    with pytest.raises(AssertionError):
        check(CASES[0], seed=0)


# ----------------------------------------------------------------------------------------------
# What the term promises, options, and the model
# ----------------------------------------------------------------------------------------------
def test_zero_for_agreeing_one_hot_predictions_and_no_valid_pixel():
    logits, images, valid = make_inputs(1, 3, 12, 12, seed=14)
    one_hot = torch.zeros_like(logits)
    one_hot[:, 1] = 1
    assert gated_crf_loss(one_hot, images, valid, radius=2, downscale=2, **OPTIONS) == 0
    none_valid = torch.zeros_like(valid)
    out = gated_crf_loss(logits.softmax(1), images, none_valid, radius=2, downscale=2, **OPTIONS)
    assert out == 0 and torch.isfinite(out)


def test_colour_edges_weaken_the_pull():
    """Two halves predicted differently cost less when the colour changes where they meet."""
    logits = torch.zeros(1, 2, 16, 16, dtype=torch.float64)
    logits[:, 0, :, :8], logits[:, 1, :, 8:] = 4, 4
    valid = torch.ones(1, 16, 16, dtype=torch.bool)
    flat = torch.full((1, 3, 16, 16), 100.0, dtype=torch.float64)
    edge = flat.clone()
    edge[..., 8:] = 200
    kw = dict(radius=2, downscale=2, **OPTIONS)
    assert gated_crf_loss(logits.softmax(1), edge, valid, **kw) < \
        0.2 * gated_crf_loss(logits.softmax(1), flat, valid, **kw)


@pytest.mark.parametrize("key, value", [("weight", -1.0), ("radius", 0), ("radius", 1.5),
                                        ("sigma_xy", 0.0), ("sigma_rgb", -3.0),
                                        ("downscale", 0)])
def test_bad_options_name_the_key(key, value):
    with pytest.raises(ValueError, match=f"MODEL.PAIRWISE.{key.upper()}"):
        PairwiseLoss(**{"weight": 1.0, key: value})


def _batch():
    g = torch.Generator().manual_seed(0)
    label = torch.full((32, 32), 255, dtype=torch.long)
    label[4:8, 4:8], label[20:24, 20:24] = 1, 3
    return [{"image": torch.randint(0, 256, (3, 32, 32), generator=g, dtype=torch.uint8),
             "sparse_seg": label, "valid": torch.ones(32, 32, dtype=torch.bool),
             "sparse_classes": torch.tensor([0, 1, 0, 1, 0, 0.])}]


@pytest.mark.parametrize("agmm", [True, False])
def test_model_logs_loss_pairwise_only_when_on(agmm):
    off = tiny_model("MODEL.AGMM.ENABLED", agmm).train()
    on = tiny_model("MODEL.AGMM.ENABLED", agmm, "MODEL.PAIRWISE.WEIGHT", 0.5,
                    "MODEL.PAIRWISE.DOWNSCALE", 2).train()
    assert off.pairwise is None and on.pairwise.weight == 0.5
    torch.manual_seed(1)
    without = off(_batch())
    torch.manual_seed(1)
    with_term = on(_batch())
    assert "loss_pairwise" not in without
    assert set(with_term) == set(without) | {"loss_pairwise"}
    assert with_term["loss_pairwise"] > 0
    for k in without:  # the other terms do not change
        torch.testing.assert_close(with_term[k], without[k])
    sum(with_term.values()).backward()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu():
    logits, images, valid = make_inputs(2, 3, 13, 10, seed=15)
    cpu = PairwiseLoss(weight=1.0, radius=2, downscale=3, **OPTIONS)(logits, images, valid)
    cuda = PairwiseLoss(weight=1.0, radius=2, downscale=3, **OPTIONS)(
        logits.cuda(), images.cuda(), valid.cuda())
    torch.testing.assert_close(cuda["loss_pairwise"].cpu(), cpu["loss_pairwise"])
