"""agmm_loss against plain loop references written straight from docs/method.md, term by term."""
import math

import pytest
import torch
import torch.nn.functional as F

from agmm_d2.modeling import bilinear_taps
from agmm_d2.modeling.agmm_loss import TERMS, AGMMLoss, agmm_loss, gmm_response

IGNORE = 255
EPS = 1e-6
KEYS = ["loss_" + t for t in TERMS]


# ----------------------------------------------------------------------------------------------
# The references: loops over images, classes, pixels and pairs; full-resolution F_up as the
# spec says. An empty mean is 0 (the documented convention of agmm_loss).
# ----------------------------------------------------------------------------------------------
def _mean(values):
    values = [x.reshape(-1) for x in values]
    x = torch.cat(values) if values else torch.zeros(0, dtype=torch.float64)
    return x.mean() if x.numel() else x.sum()


def ref_sem_seg(logits, targets, valid):
    log_p = logits.log_softmax(1)
    terms = [-log_p[b, targets[b, y, x], y, x]
             for b, y, x in (valid & (targets != IGNORE)).nonzero().tolist()]
    return _mean(terms)


def ref_absent(logits, valid, class_presence):
    P = logits.softmax(1)
    B, K = class_presence.shape
    per_pixel = []
    for b in range(B):
        s = sum(-(1 - class_presence[b, k]) * torch.log(1 - P[b, k] + EPS) for k in range(K))
        per_pixel.append(s[valid[b]])
    return _mean(per_pixel)


def ref_prototypes(features, targets, K):
    """v (B, K, C) from the full-resolution F_up, and u (B, K)."""
    B, C = features.shape[:2]
    F_up = F.interpolate(features, size=targets.shape[-2:], mode="bilinear", align_corners=False)
    v = features.new_zeros(B, K, C)
    u = features.new_zeros(B, K)
    for b in range(B):
        for k in range(K):
            mask = targets[b] == k
            n = int(mask.sum())
            if n:
                v[b, k] = F_up[b][:, mask].sum(1) / (n + EPS)
                u[b, k] = 1
    return v, u


def ref_proto(features, targets, K, reduction):
    v, u = ref_prototypes(features, targets, K)
    N = u.sum(0)
    m = []
    for k in range(K):
        if reduction == "sum":
            m.append(v[:, k].sum(0) * N[k] / (N[k] + EPS))
        else:
            m.append(v[:, k].sum(0) / (N[k] + EPS))
    total, n_pairs = features.new_zeros(()), 0
    for i in range(K):
        for j in range(i + 1, K):
            if N[i] > 0 and N[j] > 0:
                d = (m[i] - m[j]).abs().mean()
                total = total + torch.exp(-d * d)
                n_pairs += 1
    return total / (n_pairs + EPS)


def ref_response(features, logits, targets, valid, class_presence, variance,
                 gmm_target="released"):
    """R (B, K, H, W), straight from docs/method.md."""
    B, C, h, w = features.shape
    K, H, W = logits.shape[1:]
    P = logits.softmax(1)
    v, u = ref_prototypes(features, targets, K)
    keep = F.interpolate(valid[:, None].double(), size=(h, w), mode="bilinear", align_corners=False)
    Pd = F.interpolate(P * class_presence[:, :, None, None], size=(h, w), mode="bilinear",
                       align_corners=False) * keep
    R_low = []
    for b in range(B):
        for k in range(K):
            a = (features[b] - v[b, k][:, None, None]).abs().mean(0) * u[b, k] * keep[b, 0]
            if variance == "fixed":
                R_low.append(torch.exp(-a * a))
            else:
                pd = Pd[b, k].detach()
                ad = a.detach()
                sigma = torch.sqrt((pd * ad * ad).sum() / (pd.sum() + EPS))
                R_low.append(torch.exp(-a * a / (2 * sigma * sigma + EPS)))
    R_low = torch.stack(R_low).view(B, K, h, w)
    if gmm_target == "normalized":  # over the crop's present classes
        R_low = R_low * u[:, :, None, None]
        R_low = R_low / (R_low.sum(1, keepdim=True) + EPS)
    R = F.interpolate(R_low, size=(H, W), mode="bilinear", align_corners=False)
    return R * u[:, :, None, None]


def ref_gmm(features, logits, targets, valid, class_presence, variance, gmm_target="released",
            gmm_confidence=0.0, class_weight=None):
    """loss_gmm; ``class_weight`` (K floats, default 1) multiplies each class's unlabeled term."""
    B, K = logits.shape[:2]
    class_weight = [1.0] * K if class_weight is None else class_weight
    P = logits.softmax(1)
    _, u = ref_prototypes(features, targets, K)
    R = ref_response(features, logits, targets, valid, class_presence, variance, gmm_target)
    # The gate: the largest response of the present classes (R is 0 for the others).
    gate = (R.amax(1) >= gmm_confidence).double()
    l1_px, l2_px = [], []
    for b in range(B):
        s1, s2 = 0, 0
        for k in range(K):
            Rk, Pk = R[b, k], P[b, k]
            unlabeled = (-Rk * torch.log(Pk + EPS) - (1 - Rk) * torch.log(1 - Pk + EPS)) / 2
            Y = (targets[b] == k).double()
            labeled = (-Y * torch.log(Rk + EPS) - (1 - Y) * torch.log(1 - Rk + EPS)) / 2
            s1 = s1 + unlabeled * u[b, k] / (u[b].sum() + EPS) * gate[b] * class_weight[k]
            s2 = s2 + labeled * u[b, k] / (u[b].sum() + EPS)
        l1_px.append(s1[valid[b]])
        l2_px.append(s2[valid[b] & (targets[b] != IGNORE)])
    return _mean(l1_px) + _mean(l2_px)


def reference(features, logits, targets, valid, class_presence, variance="fixed",
              proto_reduction="sum", gmm_target="released", gmm_confidence=0.0):
    K = logits.shape[1]
    return {
        "loss_sem_seg": ref_sem_seg(logits, targets, valid),
        "loss_absent": ref_absent(logits, valid, class_presence),
        "loss_proto": ref_proto(features, targets, K, proto_reduction),
        "loss_gmm": ref_gmm(features, logits, targets, valid, class_presence, variance,
                            gmm_target, gmm_confidence),
    }


# ----------------------------------------------------------------------------------------------
# Random sparse batches
# ----------------------------------------------------------------------------------------------
def make_batch(B, K, C, H, W, h, w, seed, *, n_classes=None, density=0.06, dtype=torch.float64):
    """Features, logits, sparse targets (ignore on padding), valid mask, image labels."""
    g = torch.Generator().manual_seed(seed)
    features = 0.5 * torch.randn(B, C, h, w, generator=g, dtype=dtype)
    logits = 2 * torch.randn(B, K, H, W, generator=g, dtype=dtype)
    targets = torch.full((B, H, W), IGNORE, dtype=torch.long)
    valid = torch.ones(B, H, W, dtype=torch.bool)
    class_presence = torch.zeros(B, K, dtype=dtype)
    for b in range(B):
        # Padding on the bottom/right of some images, as a crop of a small image leaves.
        valid[b, H - int(torch.randint(0, H // 3 + 1, (1,), generator=g)):] = False
        valid[b, :, W - int(torch.randint(0, W // 3 + 1, (1,), generator=g)):] = False
        # By default 2..K-1 classes per crop, so that some class is absent from every image.
        hi = max(K - 1, 1)
        n = n_classes or int(torch.randint(min(2, hi), hi + 1, (1,), generator=g))
        order = torch.randperm(K, generator=g)
        classes = order[:n]
        pick = (torch.rand(H, W, generator=g) < density) & valid[b]
        targets[b][pick] = classes[torch.randint(0, n, (int(pick.sum()),), generator=g)]
        class_presence[b, classes] = 1
        if n + 1 < K:
            # c is the label before cropping: it may name a class that the crop lost.
            class_presence[b, order[n]] = 1
    return features, logits, targets, valid, class_presence


def grads(losses, inputs):
    """Per loss key, the gradients w.r.t. ``inputs`` (zeros where a term does not depend on one)."""
    out = {}
    for k in KEYS:
        loss = losses[k]
        if loss.requires_grad:
            out[k] = torch.autograd.grad(loss, inputs, retain_graph=True, allow_unused=True)
            out[k] = [torch.zeros_like(x) if g is None else g for x, g in zip(inputs, out[k])]
        else:
            out[k] = [torch.zeros_like(x) for x in inputs]
    return out


def check_against_reference(batch, **options):
    features, logits, targets, valid, class_presence = batch
    features = features.clone().requires_grad_()
    logits = logits.clone().requires_grad_()
    ref_opts = {k: v for k, v in options.items() if k in ("variance", "proto_reduction")}
    fast = agmm_loss(features, logits, targets, valid, class_presence, **options)
    ref = reference(features, logits, targets, valid, class_presence, **ref_opts)
    g_fast, g_ref = grads(fast, (features, logits)), grads(ref, (features, logits))
    for k in KEYS:
        torch.testing.assert_close(fast[k], ref[k], rtol=1e-5, atol=1e-9, msg=f"value of {k}")
        for name, a, b in zip(("features", "logits"), g_fast[k], g_ref[k]):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-9, msg=f"d {k} / d {name}")
            assert torch.isfinite(a).all()
    return fast


# B, K, C, H, W, h, w: h*4 != H, odd and non-square sizes, stride 4 exactly, no downsampling.
SHAPES = [
    (2, 5, 8, 33, 33, 9, 9),
    (3, 4, 6, 29, 41, 8, 11),
    (1, 3, 4, 16, 16, 4, 4),
    (2, 6, 5, 13, 20, 13, 20),
]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("variance", ["fixed", "adaptive"])
@pytest.mark.parametrize("proto_reduction", ["sum", "mean"])
def test_matches_reference(shape, variance, proto_reduction):
    seed = 100 * SHAPES.index(shape) + 10 * (variance == "adaptive") + (proto_reduction == "mean")
    batch = make_batch(*shape, seed=seed)
    out = check_against_reference(batch, variance=variance, proto_reduction=proto_reduction)
    assert all(out[k].dtype == torch.float64 for k in KEYS)
    assert all(out[k] > 0 for k in KEYS)


@pytest.mark.parametrize("variance", ["fixed", "adaptive"])
def test_gmm_response_matches_reference(variance):
    for i, shape in enumerate(SHAPES[:2]):
        features, logits, targets, valid, class_presence = make_batch(*shape, seed=500 + i)
        fast = gmm_response(features, logits, targets, valid, class_presence, variance=variance)
        ref = ref_response(features, logits, targets, valid, class_presence, variance)
        assert fast.shape == logits.shape
        torch.testing.assert_close(fast, ref, rtol=1e-5, atol=1e-9)
    empty = torch.full_like(targets, IGNORE)
    assert not gmm_response(features, logits, empty, valid, class_presence).any()


@pytest.mark.parametrize("variance", ["fixed", "adaptive"])
def test_sliced_passes_match_reference(monkeypatch, variance):
    # At real sizes the full-resolution passes and the L1 distances run in slices of each image;
    # the test shapes are too small for that unless the slice is made tiny.
    from agmm_d2.modeling import agmm_ops

    monkeypatch.setattr(agmm_ops, "_SLICE", 64)
    check_against_reference(make_batch(2, 5, 8, 33, 27, 9, 7, seed=20), variance=variance)


def test_gradient_of_features_alone():
    batch = make_batch(2, 4, 6, 17, 17, 5, 5, seed=21)
    features = batch[0].clone().requires_grad_()
    both = (batch[0].clone().requires_grad_(), batch[1].clone().requires_grad_())
    loss = sum(agmm_loss(features, *batch[1:]).values())
    (g_alone,) = torch.autograd.grad(loss, features)
    g_both, _ = torch.autograd.grad(sum(agmm_loss(*both, *batch[2:]).values()), both)
    torch.testing.assert_close(g_alone, g_both)


def test_bilinear_taps_reproduce_interpolate():
    # The prototypes rest on this: sampling the low-res grid at a pixel's 4 taps is F_up there.
    x = torch.randn(2, 3, 9, 7, dtype=torch.float64)
    for H, W in [(33, 29), (9, 7), (40, 12), (5, 4)]:
        up = F.interpolate(x, size=(H, W), mode="bilinear", align_corners=False)
        ys, xs = torch.meshgrid(torch.arange(H), torch.arange(W), indexing="ij")
        index, weight = bilinear_taps(ys.flatten(), xs.flatten(), (H, W), (9, 7))
        sampled = (x.flatten(2)[:, :, index] * weight).sum(-1).view(2, 3, H, W)
        torch.testing.assert_close(sampled, up, rtol=0, atol=1e-13)
        # docs/method.md's (and the benchmark baseline's) form of the same identity.
        gx, gy = (xs.double() + 0.5) / W * 2 - 1, (ys.double() + 0.5) / H * 2 - 1
        grid = torch.stack([gx, gy], -1)
        sampled = F.grid_sample(x, grid[None].expand(2, -1, -1, -1), mode="bilinear",
                                padding_mode="border", align_corners=False)
        torch.testing.assert_close(sampled, up, rtol=0, atol=1e-13)


def test_weights_scale_and_switch_off_terms():
    batch = make_batch(2, 4, 6, 17, 17, 5, 5, seed=5)
    base = agmm_loss(*batch)
    weights = {"sem_seg": 0.5, "absent": 0.0, "proto": 2.0, "gmm": 3.0}
    scaled = agmm_loss(*batch, weights=weights)
    for t in TERMS:
        torch.testing.assert_close(scaled["loss_" + t], base["loss_" + t] * weights[t])
    off = agmm_loss(*batch, weights=dict.fromkeys(TERMS, 0.0))
    assert all(off[k] == 0 for k in KEYS)


# ----------------------------------------------------------------------------------------------
# Degenerate batches: finite values and gradients, still equal to the reference.
# ----------------------------------------------------------------------------------------------
def _no_annotation_in_image(batch):
    targets = batch[2].clone()
    targets[0] = IGNORE
    return batch[:2] + (targets,) + batch[3:]


def _no_annotation_at_all(batch):
    return batch[:2] + (torch.full_like(batch[2], IGNORE),) + batch[3:]


def _all_padding_image(batch):
    targets, valid = batch[2].clone(), batch[3].clone()
    targets[1], valid[1] = IGNORE, False
    return batch[:2] + (targets, valid) + batch[4:]


def _all_padding_batch(batch):
    return batch[:2] + (torch.full_like(batch[2], IGNORE), torch.zeros_like(batch[3])) + batch[4:]


def _small(seed, B=2, K=4, **kwargs):
    return make_batch(B, K, 5, 21, 21, 6, 6, seed, **kwargs)


DEGENERATE = {
    "no_annotation_in_one_image": lambda: _no_annotation_in_image(_small(1)),
    "no_annotation_in_batch": lambda: _no_annotation_at_all(_small(2)),
    "single_class": lambda: _small(3, n_classes=1),
    "all_classes_present": lambda: _small(4, n_classes=4, density=0.5),
    "image_all_padding": lambda: _all_padding_image(_small(5)),
    "batch_all_padding": lambda: _all_padding_batch(_small(6)),
    "K_is_1": lambda: _small(7, K=1),
    "B_is_1": lambda: _small(8, B=1),
    "dense_labels": lambda: make_batch(2, 3, 5, 12, 12, 3, 3, 9, density=1.0),
}


@pytest.mark.parametrize("case", sorted(DEGENERATE))
@pytest.mark.parametrize("variance", ["fixed", "adaptive"])
def test_degenerate_batches(case, variance):
    out = check_against_reference(DEGENERATE[case](), variance=variance)
    assert all(torch.isfinite(out[k]) for k in KEYS)
    if case in ("no_annotation_in_batch", "batch_all_padding"):
        assert out["loss_sem_seg"] == 0 and out["loss_gmm"] == 0 and out["loss_proto"] == 0


def test_zero_annotation_float32_grads_finite():
    features, logits, targets, valid, labels = _no_annotation_at_all(
        make_batch(2, 3, 4, 9, 9, 3, 3, 11, dtype=torch.float32))
    features.requires_grad_()
    logits.requires_grad_()
    out = agmm_loss(features, logits, targets, valid, labels)
    sum(out.values()).backward()
    assert torch.isfinite(features.grad).all() and torch.isfinite(logits.grad).all()


# ----------------------------------------------------------------------------------------------
# dtypes and autocast
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dtype_in_equals_dtype_out(dtype):
    batch64 = make_batch(2, 4, 6, 17, 17, 5, 5, seed=12)
    features, logits = (x.to(dtype).requires_grad_() for x in batch64[:2])
    out = agmm_loss(features, logits, *batch64[2:4], batch64[4].to(dtype))
    assert all(out[k].dtype == dtype for k in KEYS)
    sum(out.values()).backward()
    assert features.grad.dtype == dtype and logits.grad.dtype == dtype
    if dtype == torch.float32:
        ref = agmm_loss(*batch64)
        for k in KEYS:
            torch.testing.assert_close(out[k].double(), ref[k], rtol=1e-4, atol=1e-6)


def test_bf16_autocast_is_finite_and_close():
    torch.manual_seed(0)
    features, _, targets, valid, labels = make_batch(2, 4, 8, 33, 33, 9, 9, seed=13)
    features, labels = features.float(), labels.float()
    head = torch.nn.Conv2d(8, 8, 1)
    classifier = torch.nn.Conv2d(8, 4, 1)

    def step():
        head.zero_grad()
        feats = head(features)
        logits = F.interpolate(classifier(feats), size=(33, 33), mode="bilinear",
                               align_corners=False)
        out = agmm_loss(feats, logits, targets, valid, labels)
        sum(out.values()).backward()
        return out, head.weight.grad.clone()

    ref, ref_grad = step()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out, grad = step()
    for k in KEYS:
        assert torch.isfinite(out[k]) and out[k].dtype == torch.float32
        torch.testing.assert_close(out[k].float(), ref[k], rtol=5e-2, atol=5e-2)
    assert torch.isfinite(grad).all()


def test_bf16_inputs_without_autocast():
    features, logits, targets, valid, labels = make_batch(2, 4, 6, 17, 17, 5, 5, seed=14)
    features = features.bfloat16().requires_grad_()
    logits = (20 * logits).bfloat16().requires_grad_()  # saturated softmax: P is 0 or 1
    out = agmm_loss(features, logits, targets, valid, labels)
    assert all(out[k].dtype == torch.bfloat16 and torch.isfinite(out[k]) for k in KEYS)
    sum(out.values()).backward()
    assert torch.isfinite(features.grad).all() and torch.isfinite(logits.grad).all()
    # The same float32 computation as on the float32 copies of the bf16 inputs.
    f32 = features.detach().float().requires_grad_(), logits.detach().float().requires_grad_()
    ref = agmm_loss(*f32, targets, valid, labels.float())
    sum(ref.values()).backward()
    for k in KEYS:
        torch.testing.assert_close(out[k], ref[k].bfloat16())
    torch.testing.assert_close(logits.grad.float(), f32[1].grad, rtol=1e-2, atol=1e-4)


# ----------------------------------------------------------------------------------------------
# Cost: no (B, K, C, h, w) tensor and no full-resolution copy of the features
# ----------------------------------------------------------------------------------------------
def test_no_large_intermediate_tensors():
    from torch.utils._python_dispatch import TorchDispatchMode

    B, K, C, H, W, h, w = 4, 4, 64, 33, 33, 9, 9
    features, logits, targets, valid, labels = make_batch(B, K, C, H, W, h, w, seed=15, n_classes=3)
    features.requires_grad_()
    logits.requires_grad_()
    sizes = []

    class RecordSizes(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            for t in out if isinstance(out, (tuple, list)) else [out]:
                if isinstance(t, torch.Tensor):
                    sizes.append((t.numel(), str(func)))
            return out

    with RecordSizes():
        sum(agmm_loss(features, logits, targets, valid, labels).values()).backward()
    # Nothing bigger than the inputs themselves (their gradients are as big).
    biggest = max(sizes)
    assert biggest[0] <= max(features.numel(), logits.numel()), biggest
    assert max(features.numel(), logits.numel()) < min(B * K * C * h * w, B * C * H * W)


# ----------------------------------------------------------------------------------------------
# Bad input and the config-built module
# ----------------------------------------------------------------------------------------------
def test_bad_input_names_the_argument():
    f, z, t, v, c = make_batch(2, 4, 6, 17, 17, 5, 5, seed=16)
    cases = [
        ("features", (f[:1], z, t, v, c)),
        ("targets", (f, z, t[:, :16], v, c)),
        ("valid", (f, z, t, v[:, :, :15], c)),
        ("class_presence", (f, z, t, v, c[:, :3])),
        ("class_presence", (f, z, t, v, c[:1])),
        ("targets", (f, z, t.masked_fill(t == 2, 4), v, c)),
        ("targets", (f, z, t.masked_fill(t == 2, -1), v, c)),
        ("targets", (f, z, t.float(), v, c)),
    ]
    for name, args in cases:
        with pytest.raises(ValueError, match=name):
            agmm_loss(*args)
    with pytest.raises(ValueError, match="variance"):
        agmm_loss(f, z, t, v, c, variance="paper")
    with pytest.raises(ValueError, match="proto_reduction"):
        agmm_loss(f, z, t, v, c, proto_reduction="avg")
    with pytest.raises(ValueError, match="weights"):
        agmm_loss(f, z, t, v, c, weights={"cls": 1.0})


def test_other_ignore_value():
    # Some released VOC label copies mark "not annotated" with K (21) instead of 255.
    f, z, t, v, c = make_batch(2, 4, 6, 17, 17, 5, 5, seed=17)
    expected = agmm_loss(f, z, t, v, c)
    out = agmm_loss(f, z, t.masked_fill(t == IGNORE, 4), v, c, ignore_value=4)
    for k in KEYS:
        torch.testing.assert_close(out[k], expected[k])


def test_other_layouts_and_integer_dtypes():
    f, z, t, v, c = make_batch(2, 4, 6, 17, 17, 5, 5, seed=22)
    expected = agmm_loss(f, z, t, v, c)
    out = agmm_loss(
        f.to(memory_format=torch.channels_last),
        z.to(memory_format=torch.channels_last),
        t.to(torch.uint8),
        v.to(torch.uint8),
        c.bool(),
    )
    for k in KEYS:
        torch.testing.assert_close(out[k], expected[k])


def test_module_from_config():
    from detectron2.config import get_cfg

    from agmm_d2.config import add_agmm_config

    cfg = get_cfg()
    add_agmm_config(cfg)
    cfg.MODEL.SEM_SEG_HEAD.IGNORE_VALUE = IGNORE
    cfg.MODEL.AGMM.VARIANCE = "adaptive"
    cfg.MODEL.AGMM.ABSENT_WEIGHT = 0.0
    cfg.MODEL.AGMM.GMM_WEIGHT = 0.5
    batch = make_batch(2, 4, 6, 17, 17, 5, 5, seed=18)
    out = AGMMLoss(cfg)(*batch)
    expected = agmm_loss(*batch, variance="adaptive", weights={"absent": 0.0, "gmm": 0.5})
    assert set(out) == set(KEYS)
    for k in KEYS:
        torch.testing.assert_close(out[k], expected[k])
    cfg.MODEL.AGMM.ENABLED = False
    baseline = AGMMLoss(cfg)(*batch)
    assert set(baseline) == {"loss_sem_seg"}
    torch.testing.assert_close(baseline["loss_sem_seg"], expected["loss_sem_seg"])
    assert not math.isnan(float(baseline["loss_sem_seg"]))
    with pytest.raises(ValueError, match="variance"):
        AGMMLoss(variance="paper")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu():
    batch = make_batch(2, 5, 8, 33, 33, 9, 9, seed=23)
    for variance in ("fixed", "adaptive"):
        cpu = check_against_reference(batch, variance=variance)
        cuda_batch = [x.cuda() for x in batch]
        features, logits = cuda_batch[0].requires_grad_(), cuda_batch[1].requires_grad_()
        out = agmm_loss(*cuda_batch, variance=variance)
        sum(out.values()).backward()
        for k in KEYS:
            torch.testing.assert_close(out[k].cpu(), cpu[k], rtol=1e-5, atol=1e-9)
        assert torch.isfinite(features.grad).all() and torch.isfinite(logits.grad).all()
