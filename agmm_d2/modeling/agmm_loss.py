"""The AGMM supervision: partial cross-entropy, absent-class, prototype and Gaussian-mixture terms.

``agmm_loss`` computes exactly what docs/method.md ("The four terms") defines, which is what the
authors' released training code computes, without its cost:

- prototypes are means of the *bilinearly upsampled* features over annotated pixels; that is a
  fixed linear map of the low-resolution features (the adjoint of the upsampling restricted to
  those pixels), built from the four bilinear taps of each annotated pixel: no full-resolution
  copy of the features;
- prototypes and the channel-mean L1 distances to them are computed only for the classes
  present in each crop (u = 0 zeroes the others' response, weight and gradient exactly), in
  ``agmm_ops.prototype_distances``;
- the full-resolution terms run fused, image by image, in ``agmm_ops.dense_terms``.

An empty mean (no valid pixel, no annotated pixel) is 0, not NaN: the released code would give
NaN there, and a batch of crops without any annotation is legitimate.
"""
from typing import Dict, Optional

import torch
import torch.nn.functional as F
from detectron2.config import configurable
from torch import Tensor, nn

from ..config import check_choice
from .agmm_ops import EPS, ImagePlan, dense_terms, prototype_distances

__all__ = ["agmm_loss", "balanced_partial_ce", "gmm_response", "normalize_features",
           "ramp_factor", "AGMMLoss", "TERMS"]

# Loss keys are "loss_" + term; the weights dict uses the bare names.
TERMS = ("sem_seg", "absent", "proto", "gmm")
# The terms that a warm-up ramps in; partial cross-entropy always has its full weight.
AGMM_TERMS = ("absent", "proto", "gmm")


def agmm_loss(features: Tensor, logits: Tensor, targets: Tensor, valid: Tensor,
              class_presence: Tensor, *, ignore_value: int = 255, variance: str = "fixed",
              proto_reduction: str = "sum", feature_norm: str = "none",
              gmm_target: str = "released", gmm_confidence: float = 0.0,
              weights: Optional[Dict[str, float]] = None,
              gmm_class_balance: str = "none",
              ce_class_balance: str = "none") -> Dict[str, Tensor]:
    """The four AGMM loss terms of one training step.

    Args:
        features (Tensor): (B, C, h, w) decoder features F (before the classifier).
        logits (Tensor): (B, K, H, W) class logits Z at input resolution.
        targets (Tensor): (B, H, W) int64 sparse target T: class id where annotated,
            ``ignore_value`` elsewhere (including on padding).
        valid (Tensor): (B, H, W) bool V, False on padding added by cropping or batching.
        class_presence (Tensor): (B, K) 0/1 c, the classes taken as present in each image: those
            of its whole sparse label (released), or complete image-level labels. Only
            ``loss_absent`` depends on it (the other terms use the crop's own classes u, which
            c always contains).
        ignore_value (int): the value of T at pixels without annotation.
        variance (str): "fixed" (unit variance, the released code) or "adaptive" (the paper's
            per-image, per-class sigma estimated from the predictions, detached).
        proto_reduction (str): "sum" (the released code: batch class vector = sum over images)
            or "mean" (divided by the number of images whose crop contains the class).
        feature_norm (str): "none" (the released code) or "rms": every feature vector F[b, :, q]
            scaled to unit root-mean-square over channels (L2 norm sqrt(C)) before prototypes,
            distances and responses, so that they do not depend on the features' scale.
        gmm_target (str): "released" (R_low = exp(-a^2) class by class, the released code) or
            "normalized": R_low divided by its sum over the crop's present classes at each
            pixel, so that the response the GMM terms use is a distribution over classes.
        gmm_confidence (float): in [0, 1); the unlabeled GMM term counts only the valid pixels
            where the largest response of the crop's present classes is at least this (it is
            still averaged over all valid pixels); 0 (the released code) counts every one.
        weights (dict or None): multipliers for "sem_seg", "absent", "proto", "gmm" (default
            1.0 each). A term with weight 0 is not computed and returns 0.
        gmm_class_balance (str): "none" (the released code) or "inverse_frequency": the
            unlabeled GMM term also weighs each class by ``class_balance_weights``.
        ce_class_balance (str): "none" (the released code: the partial cross-entropy is the
            mean over the annotated valid pixels) or "inverse_frequency": the mean over the
            batch's annotated classes of each class's mean (``balanced_partial_ce``).

    Returns:
        dict[str, Tensor]: scalars ``loss_sem_seg``, ``loss_absent``, ``loss_proto``,
        ``loss_gmm`` (the sum of the unlabeled and labeled GMM terms), each multiplied by its
        weight, in the dtype of ``features`` and ``logits`` promoted together; float32 under
        autocast (as autocast returns torch's own losses). All logs and exps run in float32
        (float64 for float64 inputs), whatever the input dtype.
    """
    weights = _check_inputs(features, logits, targets, valid, class_presence, ignore_value,
                            variance, proto_reduction, weights, feature_norm, gmm_target,
                            gmm_confidence, gmm_class_balance, ce_class_balance)
    device_type = logits.device.type
    out_dtype = torch.promote_types(features.dtype, logits.dtype)
    compute_dtype = torch.float64 if out_dtype == torch.float64 else torch.float32
    if torch.is_autocast_enabled(device_type):
        out_dtype = compute_dtype
    with torch.autocast(device_type=device_type, enabled=False):
        features = normalize_features(features.to(compute_dtype), feature_norm)
        losses = _agmm_terms(features, logits, targets.long(), valid.bool(),
                             class_presence.to(compute_dtype), ignore_value, variance,
                             proto_reduction, gmm_target, gmm_confidence, weights, compute_dtype,
                             gmm_class_balance, ce_class_balance)
    return {"loss_" + k: (losses[k] * weights[k]).to(out_dtype) for k in TERMS}


def normalize_features(features: Tensor, feature_norm: str) -> Tensor:
    """(B, C, h, w) features, unchanged ("none") or scaled to unit channel RMS per pixel ("rms").

    "rms" divides each F[b, :, q] by its L2 norm / sqrt(C) (+1e-6): prototypes and channel-mean
    L1 distances then keep the scale that exp(-a^2) was designed for with unit-variance
    features, whatever scale the decoder drifts to.
    """
    if feature_norm == "none":
        return features
    C = features.shape[1]
    return features * (C ** 0.5) / (features.norm(dim=1, keepdim=True) + EPS)


def _agmm_terms(features, logits, targets, valid, class_presence, ignore_value, variance,
                proto_reduction, gmm_target, gmm_confidence, weights, cd, gmm_class_balance="none",
                ce_class_balance="none"):
    """Unweighted terms; features and image labels already in the compute dtype ``cd``."""
    B, C, h, w = features.shape
    K, H, W = logits.shape[1:]
    zero = features.new_zeros(())
    losses = dict.fromkeys(TERMS, zero)
    annotated = targets != ignore_value
    counts, u, pair_b, pair_k, present = _presence(targets, annotated, K)

    use_gmm = weights["gmm"] != 0
    if weights["proto"] != 0 or use_gmm:
        protos, dists = _prototypes_and_distances(features, targets, annotated, counts, pair_b,
                                                  pair_k, (H, W))
        if weights["proto"] != 0:
            losses["proto"] = _proto_term(protos, pair_k, K, proto_reduction)

    r_low = features.new_zeros(B, K, h, w)
    if use_gmm:
        r_low = _low_res_response(dists, pair_b, pair_k, present, valid, logits, class_presence,
                                  variance, gmm_target, (h, w))

    use_ce = weights["sem_seg"] != 0
    if use_ce and ce_class_balance == "inverse_frequency":
        losses["sem_seg"] = balanced_partial_ce(logits.to(cd), targets, valid, ignore_value)
        use_ce = False  # the fused pass below then leaves the cross-entropy out
    use_absent = weights["absent"] != 0
    if not (use_ce or use_absent or use_gmm):
        return losses
    is_ann = annotated & valid
    a_b, a_y, a_x = is_ann.nonzero(as_tuple=True)
    per_image = torch.bincount(a_b, minlength=B).tolist()
    a_pix = (a_y * W + a_x).split(per_image)
    a_cls = targets[a_b, a_y, a_x].split(per_image)
    u_f = u.to(cd)
    gmm_coef = u_f / (u_f.sum(1, keepdim=True) + EPS)
    unlabeled_coef = None
    if gmm_class_balance == "inverse_frequency":
        unlabeled_coef = gmm_coef * class_balance_weights(counts).to(cd)
    valid_f = valid.to(cd).view(B, -1)
    absent_coef = 1 - class_presence
    plans = [
        ImagePlan(valid=valid_f[b], ann_pix=a_pix[b], ann_cls=a_cls[b],
                  absent_coef=absent_coef[b] if use_absent else None,
                  present=present[b], gmm_coef=gmm_coef[b, present[b]],
                  gmm_confidence=float(gmm_confidence),
                  unlabeled_coef=None if unlabeled_coef is None else unlabeled_coef[b, present[b]])
        for b in range(B)
    ]
    ce, absent, gmm_unlabeled, gmm_labeled = dense_terms(logits, r_low, plans, cd, use_ce, use_gmm)
    n_valid = max(int(valid.sum()), 1)
    n_ann = max(len(a_b), 1)
    if ce_class_balance == "none":
        losses["sem_seg"] = ce / n_ann
    losses["absent"] = absent / n_valid
    losses["gmm"] = gmm_unlabeled / n_valid + gmm_labeled / n_ann
    return losses


def balanced_partial_ce(logits: Tensor, targets: Tensor, valid: Tensor,
                        ignore_value: int) -> Tensor:
    """Class-balanced partial cross-entropy (CE_CLASS_BALANCE "inverse_frequency").

    ``(1 / |S|) sum_{k in S} mean_{p annotated with k} -log softmax(Z[p])_k`` over the batch's
    annotated valid pixels, S the classes they hold: torch's cross-entropy weighted by the
    inverse frequencies of ``class_balance_weights`` (its weighted mean divides by the sum of
    the weights, which makes it exactly this). 0 when no pixel is annotated.

    Args:
        logits (Tensor): (B, K, H, W) class logits. targets (Tensor): (B, H, W) int64.
        valid (Tensor): (B, H, W) bool.
    """
    targets = torch.where(valid, targets, torch.full_like(targets, ignore_value))
    annotated = targets != ignore_value
    if not bool(annotated.any()):
        return logits.sum() * 0
    n = torch.bincount(targets[annotated], minlength=logits.shape[1])
    # beta is proportional to 1 / n_k, and the weighted mean does not depend on the scale.
    weight = class_balance_weights(n[None]).to(logits.dtype)
    return F.cross_entropy(logits, targets, weight=weight, ignore_index=ignore_value)


def class_balance_weights(counts: Tensor) -> Tensor:
    """(K,) beta of GMM_CLASS_BALANCE "inverse_frequency" from (B, K) annotated pixel counts.

    ``beta_k = (1 / n_k) / mean_{j in S} (1 / n_j)`` with n_k the batch's annotated pixels of
    class k and S the classes with n_k > 0 (beta averages 1 over S); 0 outside S. No gradient.
    """
    n = counts.sum(0).double()
    inverse = torch.where(n > 0, 1 / n.clamp(min=1), 0.0)
    n_classes = int((n > 0).sum())
    return inverse * n_classes / inverse.sum() if n_classes else inverse


def _presence(targets: Tensor, annotated: Tensor, K: int):
    """Which classes each crop's sparse label contains.

    Returns:
        counts (Tensor): (B, K) int64, pixels of class k in T[b].
        u (Tensor): (B, K) bool, counts > 0: the crop-level presence.
        pair_b, pair_k (Tensor): (P,) the (image, class) pairs with u = 1, image-major.
        present (tuple of Tensor): per image, the (n_b,) ids of its present classes.
    """
    B = targets.shape[0]
    ann_b, ann_y, ann_x = annotated.nonzero(as_tuple=True)
    counts = torch.bincount(ann_b * K + targets[ann_b, ann_y, ann_x], minlength=B * K).view(B, K)
    u = counts > 0
    pair_b, pair_k = u.nonzero(as_tuple=True)
    present = pair_k.split(torch.bincount(pair_b, minlength=B).tolist())
    return counts, u, pair_b, pair_k, present


def _prototypes_and_distances(features, targets, annotated, counts, pair_b, pair_k, out_size):
    """Prototypes v[b, k] of the present pairs and every low-res feature's distance to them.

    Returns:
        protos (Tensor): (P, C) prototypes of the P present (image, class) pairs.
        dists (Tensor): (P, h*w) channel-mean L1 distances of image b's features to v[b, k].
    """
    B, C, h, w = features.shape
    ann_b, ann_y, ann_x = annotated.nonzero(as_tuple=True)
    ann_cls = targets[ann_b, ann_y, ann_x]
    splats = _splats(counts.to(features.dtype), ann_b, ann_y, ann_x, ann_cls, out_size, (h, w))
    per_image = torch.bincount(pair_b, minlength=B).tolist()
    splats = splats[pair_b, pair_k].split(per_image)
    return prototype_distances(features.reshape(B, C, h * w), list(splats))


@torch.no_grad()
def gmm_response(features: Tensor, logits: Tensor, targets: Tensor, valid: Tensor,
                 class_presence: Tensor, *, ignore_value: int = 255,
                 variance: str = "fixed", feature_norm: str = "none",
                 gmm_target: str = "released") -> Tensor:
    """The Gaussian-mixture response R that ``loss_gmm`` supervises unlabeled pixels with.

    Arguments as in ``agmm_loss``. For inspection (tools/visualize.py); no gradient.

    Returns:
        Tensor: (B, K, H, W) R in [0, 1]; 0 for the classes absent from the crop's sparse label.
    """
    _check_inputs(features, logits, targets, valid, class_presence, ignore_value, variance, "sum",
                  None, feature_norm, gmm_target)
    cd = torch.float64 if features.dtype == torch.float64 else torch.float32
    features = normalize_features(features.to(cd), feature_norm)
    targets, valid = targets.long(), valid.bool()
    B, C, h, w = features.shape
    K, H, W = logits.shape[1:]
    annotated = targets != ignore_value
    counts, u, pair_b, pair_k, present = _presence(targets, annotated, K)
    if not len(pair_b):
        return features.new_zeros(B, K, H, W)
    _, dists = _prototypes_and_distances(features, targets, annotated, counts, pair_b, pair_k,
                                         (H, W))
    r_low = _low_res_response(dists, pair_b, pair_k, present, valid, logits,
                              class_presence.to(cd), variance, gmm_target, (h, w))
    r = F.interpolate(r_low, size=(H, W), mode="bilinear", align_corners=False)
    return r * u[:, :, None, None].to(cd)


def _bilinear_taps(ys: Tensor, xs: Tensor, out_size, in_size):
    """The four low-resolution taps of bilinear upsampling (align_corners=False) at given pixels.

    ``F.interpolate(x, out_size, mode="bilinear", align_corners=False)[..., y, x]`` equals
    ``sum_t weight[:, t] * x.flatten(-2)[..., index[:, t]]``, as PyTorch computes it.

    Args:
        ys, xs (Tensor): (m,) int64 output pixel coordinates.
        out_size, in_size: (H, W) and (h, w).

    Returns:
        index (Tensor): (m, 4) int64 flat indices into the (h*w) input grid.
        weight (Tensor): (m, 4) float64 bilinear weights.
    """
    def axis(o, n_out, n_in):
        # PyTorch's source index for align_corners=False, clamped at 0 for linear modes.
        src = ((o.double() + 0.5) * (n_in / n_out) - 0.5).clamp_(min=0)
        i0 = src.long()
        i1 = i0 + (i0 < n_in - 1).long()
        lam = src - i0
        return i0, i1, 1 - lam, lam

    y0, y1, wy0, wy1 = axis(ys, out_size[0], in_size[0])
    x0, x1, wx0, wx1 = axis(xs, out_size[1], in_size[1])
    w_in = in_size[1]
    index = torch.stack([y0 * w_in + x0, y0 * w_in + x1, y1 * w_in + x0, y1 * w_in + x1], 1)
    weight = torch.stack([wy0 * wx0, wy0 * wx1, wy1 * wx0, wy1 * wx1], 1)
    return index, weight


def _splats(counts, ann_b, ann_y, ann_x, ann_cls, out_size, in_size) -> Tensor:
    """Weights of the low-res features in each prototype: v[b, k] = splat[b, k] @ F[b]^T.

    v[b, k] is the mean of the bilinearly upsampled features over the pixels of class k in T[b];
    upsampling is linear, so that mean is a weighted sum of low-res features, with the weights
    of each pixel's four bilinear taps, divided by (n_bk + 1e-6).

    Returns:
        Tensor: (B, K, h*w) in the dtype of ``counts``.
    """
    B, K = counts.shape
    index, weight = _bilinear_taps(ann_y, ann_x, out_size, in_size)
    splat = counts.new_zeros(B * K, in_size[0] * in_size[1])
    rows = (ann_b * K + ann_cls)[:, None].expand_as(index)
    splat.index_put_((rows, index), weight.to(splat.dtype), accumulate=True)
    splat /= counts.view(-1, 1) + EPS
    return splat.view(B, K, -1)


def _proto_term(protos: Tensor, pair_k: Tensor, K: int, reduction: str) -> Tensor:
    """Mean over class pairs i < j present in the batch of exp(-d_ij^2), d = channel-mean L1.

    Args:
        protos (Tensor): (P, C) prototypes v[b, k] of the P (image, class) pairs with u = 1.
        pair_k (Tensor): (P,) their class ids.
    """
    total = protos.new_zeros(K, protos.shape[1]).index_add(0, pair_k, protos)
    n_imgs = torch.bincount(pair_k, minlength=K).to(protos.dtype)
    if reduction == "sum":
        # The released code's "mean vectors" are the sum over images times N / (N + eps).
        vecs = total * (n_imgs / (n_imgs + EPS))[:, None]
    else:
        vecs = total / (n_imgs + EPS)[:, None]
    vecs = vecs[n_imgs > 0]
    i, j = torch.triu_indices(len(vecs), len(vecs), 1, device=vecs.device)
    d = (vecs[i] - vecs[j]).abs().mean(1)
    return torch.exp(-d * d).sum() / (len(i) + EPS)


def _low_res_response(dists, pair_b, pair_k, present, valid, logits, class_presence, variance,
                      gmm_target, low_size) -> Tensor:
    """R_low[b, k] = exp(-a^2 / s) at low resolution for the present classes, 0 elsewhere.

    ``a[b, k, q] = mean_c |F[b, :, q] - v[b, k]| * keep[b, q]`` (u = 1 for present classes);
    s = 1 ("fixed") or ``2 sigma^2 + 1e-6`` ("adaptive", sigma detached). ``gmm_target``
    "normalized" divides R_low by its sum over the present classes (+1e-6) at each pixel.

    Args:
        dists (Tensor): (P, h*w) channel-mean L1 distances of the P present (image, class) pairs.

    Returns:
        Tensor: (B, K, h, w).
    """
    B, K = class_presence.shape
    h, w = low_size
    # Low-res validity: the released code downsamples the padding mask bilinearly (no antialias).
    keep = F.interpolate(valid[:, None].to(dists.dtype), size=low_size, mode="bilinear",
                         align_corners=False).view(B, h * w)
    a = dists * keep[pair_b]
    if not len(a):
        return dists.new_zeros(B, K, h, w)
    if variance == "fixed":
        r = torch.exp(-a * a)
    else:
        with torch.no_grad():
            p_low = torch.cat([_low_res_probs(logits[b], present[b], dists.dtype, low_size)
                               for b in range(B) if len(present[b])]).view(len(a), h * w)
            p_low *= class_presence[pair_b, pair_k, None] * keep[pair_b]
            var = (p_low * a * a).sum(1) / (p_low.sum(1) + EPS)
        r = torch.exp(-a * a / (2 * var + EPS)[:, None])
    r_low = dists.new_zeros(B, K, h * w).index_put((pair_b, pair_k), r)
    if gmm_target == "normalized":
        r_low = r_low / (r_low.sum(1, keepdim=True) + EPS)
    return r_low.view(B, K, h, w)


def _low_res_probs(logits, classes, dtype, low_size) -> Tensor:
    """(K, H, W) logits -> (n, h, w) probabilities of ``classes``, bilinearly downsampled."""
    p = torch.softmax(logits.to(dtype), 0)[classes]
    return F.interpolate(p[None], size=low_size, mode="bilinear", align_corners=False)[0]


def check_options(variance: str, proto_reduction: str, feature_norm: str,
                  gmm_target: str = "released", gmm_confidence: float = 0.0,
                  gmm_class_balance: str = "none", ce_class_balance: str = "none") -> None:
    """Raise ValueError naming the option whose value is not one of its choices (the registry
    ``agmm_d2.config.CHOICES``)."""
    check_choice("MODEL.AGMM.GMM_TARGET", gmm_target, "gmm_target")
    check_choice("MODEL.AGMM.GMM_CLASS_BALANCE", gmm_class_balance, "gmm_class_balance")
    check_choice("MODEL.AGMM.CE_CLASS_BALANCE", ce_class_balance, "ce_class_balance")
    if not 0 <= gmm_confidence < 1:
        raise ValueError(f"gmm_confidence must be in [0, 1), got {gmm_confidence}")
    check_choice("MODEL.AGMM.VARIANCE", variance, "variance")
    check_choice("MODEL.AGMM.PROTO_REDUCTION", proto_reduction, "proto_reduction")
    check_choice("MODEL.AGMM.FEATURE_NORM", feature_norm, "feature_norm")


def _check_inputs(features, logits, targets, valid, class_presence, ignore_value, variance,
                  proto_reduction, weights, feature_norm="none",
                  gmm_target="released", gmm_confidence=0.0,
                  gmm_class_balance="none", ce_class_balance="none") -> Dict[str, float]:
    """Raise ValueError naming the argument at fault; return the full weights dict."""
    for name, x, dim in [("features", features, 4), ("logits", logits, 4), ("targets", targets, 3),
                         ("valid", valid, 3), ("class_presence", class_presence, 2)]:
        if x.dim() != dim:
            raise ValueError(f"{name} must have {dim} dimensions, got shape {tuple(x.shape)}")
    for name, x in [("features", features), ("logits", logits)]:
        if not x.is_floating_point():
            raise ValueError(f"{name} must be a float tensor, got {x.dtype}")
    if targets.is_floating_point() or targets.dtype == torch.bool:
        raise ValueError(f"targets must be an integer tensor, got {targets.dtype}")
    B, K, H, W = logits.shape
    for name, x in [("features", features), ("targets", targets), ("valid", valid),
                    ("class_presence", class_presence)]:
        if x.shape[0] != B:
            raise ValueError(f"{name} has batch size {x.shape[0]}, logits has {B}")
    for name, x in [("targets", targets), ("valid", valid)]:
        if tuple(x.shape[1:]) != (H, W):
            raise ValueError(f"{name} has size {tuple(x.shape[1:])}, logits has {(H, W)}")
    if class_presence.shape[1] != K:
        raise ValueError(f"class_presence has {class_presence.shape[1]} classes, logits has {K}")
    bad = (targets != ignore_value) & ((targets < 0) | (targets >= K))
    if bool(bad.any()):
        raise ValueError(f"targets contains class id {int(targets[bad][0])}, not in [0, {K}) and "
                         f"not ignore_value={ignore_value}")
    check_options(variance, proto_reduction, feature_norm, gmm_target, gmm_confidence,
                  gmm_class_balance, ce_class_balance)
    weights = dict(weights or {})
    unknown = set(weights) - set(TERMS)
    if unknown:
        raise ValueError(f"weights has unknown keys {sorted(unknown)}; expected some of {TERMS}")
    return {k: float(weights.get(k, 1.0)) for k in TERMS}


def ramp_factor(iteration: Optional[int], warmup_iters: int, ramp_iters: int) -> float:
    """Multiplier of the AGMM terms' weights at ``iteration`` (0-based).

    0 for the first ``warmup_iters`` iterations (partial cross-entropy alone trains the
    features), then rising linearly to 1 over ``ramp_iters`` iterations, then 1. ``iteration``
    None (no training loop) gives 1.
    """
    if iteration is None or iteration >= warmup_iters + ramp_iters:
        return 1.0
    if iteration < warmup_iters:
        return 0.0
    return (iteration - warmup_iters + 1) / (ramp_iters + 1)


class AGMMLoss(nn.Module):
    """``agmm_loss`` with its options fixed at construction (from ``cfg.MODEL.AGMM``)."""

    @configurable
    def __init__(self, *, enabled: bool = True, ignore_value: int = 255, variance: str = "fixed",
                 proto_reduction: str = "sum", feature_norm: str = "none",
                 gmm_target: str = "released", gmm_confidence: float = 0.0,
                 weights: Optional[Dict[str, float]] = None, warmup_iters: int = 0,
                 ramp_iters: int = 0, gmm_class_balance: str = "none",
                 ce_class_balance: str = "none"):
        """
        Args:
            enabled (bool): False gives the partial cross-entropy baseline: only
                ``loss_sem_seg`` is computed and returned.
            ignore_value (int): value of the target at pixels without annotation.
            variance (str): "fixed" or "adaptive"; see ``agmm_loss``.
            proto_reduction (str): "sum" or "mean"; see ``agmm_loss``.
            feature_norm (str): "none" or "rms"; see ``agmm_loss``.
            gmm_target (str): "released" or "normalized"; see ``agmm_loss``.
            gmm_confidence (float): the unlabeled GMM term's gate; see ``agmm_loss``.
            weights (dict or None): "sem_seg", "absent", "proto", "gmm" multipliers.
            warmup_iters, ramp_iters (int): the absent, proto and gmm weights are 0 for
                ``warmup_iters`` iterations, then ramp linearly to their value over
                ``ramp_iters`` (``ramp_factor``); 0 and 0 (default) is the released behaviour.
            gmm_class_balance (str): "none" or "inverse_frequency"; see ``agmm_loss``.
            ce_class_balance (str): "none" or "inverse_frequency"; see ``agmm_loss`` (also
                for the partial cross-entropy baseline, ``enabled`` False).
        """
        super().__init__()
        check_options(variance, proto_reduction, feature_norm, gmm_target, gmm_confidence,
                      gmm_class_balance, ce_class_balance)
        if warmup_iters < 0 or ramp_iters < 0:
            raise ValueError(f"warmup_iters and ramp_iters must be >= 0, got {warmup_iters} and "
                             f"{ramp_iters}")
        self.enabled = enabled
        self.ignore_value = ignore_value
        self.variance = variance
        self.proto_reduction = proto_reduction
        self.feature_norm = feature_norm
        self.gmm_target = gmm_target
        self.gmm_confidence = float(gmm_confidence)
        self.gmm_class_balance = gmm_class_balance
        self.ce_class_balance = ce_class_balance
        self.warmup_iters = int(warmup_iters)
        self.ramp_iters = int(ramp_iters)
        self.weights = {k: float((weights or {}).get(k, 1.0)) for k in TERMS}
        if not enabled:
            self.weights.update(absent=0.0, proto=0.0, gmm=0.0)

    @classmethod
    def from_config(cls, cfg):
        agmm = cfg.MODEL.AGMM
        return {
            "enabled": agmm.ENABLED,
            "ignore_value": cfg.MODEL.SEM_SEG_HEAD.IGNORE_VALUE,
            "variance": agmm.VARIANCE,
            "proto_reduction": agmm.PROTO_REDUCTION,
            "feature_norm": agmm.FEATURE_NORM,
            "gmm_target": agmm.GMM_TARGET,
            "gmm_confidence": agmm.GMM_CONFIDENCE,
            "weights": {"sem_seg": agmm.SEM_SEG_WEIGHT, "absent": agmm.ABSENT_WEIGHT,
                        "proto": agmm.PROTO_WEIGHT, "gmm": agmm.GMM_WEIGHT},
            "warmup_iters": agmm.WARMUP_ITERS,
            "ramp_iters": agmm.RAMP_ITERS,
            "gmm_class_balance": agmm.GMM_CLASS_BALANCE,
            "ce_class_balance": agmm.CE_CLASS_BALANCE,
        }

    def weights_at(self, iteration: Optional[int] = None) -> Dict[str, float]:
        """The term weights in effect at ``iteration`` (None: after any warm-up)."""
        factor = ramp_factor(iteration, self.warmup_iters, self.ramp_iters)
        return {k: w * factor if k in AGMM_TERMS else w for k, w in self.weights.items()}

    def forward(self, features: Tensor, logits: Tensor, targets: Tensor, valid: Tensor,
                class_presence: Tensor, iteration: Optional[int] = None) -> Dict[str, Tensor]:
        """Shapes as in ``agmm_loss``; ``iteration`` drives the warm-up. Returns its dict of
        weighted loss terms (a term whose weight is 0 at this iteration is 0 and not computed)."""
        losses = agmm_loss(features, logits, targets, valid, class_presence,
                           ignore_value=self.ignore_value, variance=self.variance,
                           proto_reduction=self.proto_reduction, feature_norm=self.feature_norm,
                           gmm_target=self.gmm_target, gmm_confidence=self.gmm_confidence,
                           weights=self.weights_at(iteration),
                           gmm_class_balance=self.gmm_class_balance,
                           ce_class_balance=self.ce_class_balance)
        return losses if self.enabled else {"loss_sem_seg": losses["loss_sem_seg"]}

    @torch.no_grad()
    def response(self, features: Tensor, logits: Tensor, targets: Tensor, valid: Tensor,
                 class_presence: Tensor) -> Tensor:
        """(B, K, H, W) the Gaussian-mixture response R that this loss supervises the unlabeled
        pixels with, computed with its own options (``gmm_response``); shapes as in ``forward``."""
        return gmm_response(features, logits, targets, valid, class_presence,
                            ignore_value=self.ignore_value, variance=self.variance,
                            feature_norm=self.feature_norm, gmm_target=self.gmm_target)

    def extra_repr(self) -> str:
        return (f"enabled={self.enabled}, ignore_value={self.ignore_value}, "
                f"variance={self.variance!r}, proto_reduction={self.proto_reduction!r}, "
                f"feature_norm={self.feature_norm!r}, gmm_target={self.gmm_target!r}, "
                f"gmm_confidence={self.gmm_confidence}, "
                f"gmm_class_balance={self.gmm_class_balance!r}, "
                f"ce_class_balance={self.ce_class_balance!r}, "
                f"weights={self.weights}, "
                f"warmup_iters={self.warmup_iters}, ramp_iters={self.ramp_iters}")
