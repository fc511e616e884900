"""The two fused autograd Functions behind ``agmm_loss``; both run image by image, in slices.

``prototype_distances``: the class prototypes of each crop (a fixed linear map of the low-res
features) and the channel-mean L1 distance of every low-res feature to them, for the classes
present in the crop only. Its backward writes the features' gradient into one (B, C, h*w)
buffer, in the features' own layout: no transposed copy, no (B, K, C, h*w) difference tensor.

``dense_terms``: partial cross-entropy, the absent-class term and the two Gaussian-mixture terms
(``gmm_unlabeled`` on valid pixels, ``gmm_labeled`` on annotated ones). They all read the softmax
of the logits or the upsampled response R at input resolution; written with plain autograd they
cost a dozen passes over (B, K, H, W) tensors and save as many for the backward. Here each image is
processed in pixel slices that stay in the CPU's cache, the softmax is computed once and shared, R
is read only for the classes present in the crop (it is 0 for the others, and so are their
weights), and the backward recomputes softmax and R instead of saving them: nothing of full
resolution is kept between forward and backward beyond the logits themselves.

Both accept what autocast gives them (bfloat16 or float16 inputs, autocast on or off): they run
with autocast off, read their inputs in float32 (float64 for float64 inputs), reduce in it, and
return the gradient of each input in that input's own dtype.
"""
from dataclasses import dataclass
from typing import List, Optional

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["ImagePlan", "dense_terms", "prototype_distances"]

# The 1e-6 of every log in the released code (log(P + 1e-6), log(1 - P + 1e-6), log(R + 1e-6)).
EPS = 1e-6


@dataclass
class ImagePlan:
    """What the full-resolution terms need to know about one image.

    Attributes:
        valid (Tensor): (H*W,) 0/1 in the compute dtype; pixels inside the image (not padding).
        ann_pix (Tensor): (m,) int64 flat indices of the annotated valid pixels.
        ann_cls (Tensor): (m,) int64 their class ids.
        absent_coef (Tensor or None): (K,) ``1 - c``; None when the absent term is off.
        present (Tensor): (n,) int64 classes present in the crop (u = 1).
        gmm_coef (Tensor): (n,) ``u / (sum_k u + 1e-6)`` of those classes.
        gmm_confidence (float): the unlabeled GMM term only counts pixels where the largest
            response of the present classes is at least this; 0 counts every valid pixel.
        unlabeled_coef (Tensor or None): (n,) class weights of the unlabeled GMM term when they
            differ from ``gmm_coef`` (class balance); None: ``gmm_coef``.
    """

    valid: Tensor
    ann_pix: Tensor
    ann_cls: Tensor
    absent_coef: Optional[Tensor]
    present: Tensor
    gmm_coef: Tensor
    gmm_confidence: float = 0.0
    unlabeled_coef: Optional[Tensor] = None

    @property
    def unlabeled_weights(self) -> Tensor:
        """(n,) the class weights of the unlabeled GMM term."""
        return self.gmm_coef if self.unlabeled_coef is None else self.unlabeled_coef

    def gmm_gate(self, r: Tensor) -> Optional[Tensor]:
        """(m,) 1 where the largest response of the slice's ``r`` (n, m) reaches
        ``gmm_confidence``, else 0; None when there is no gate (every valid pixel counts)."""
        if self.gmm_confidence <= 0:
            return None
        return (r.amax(0) >= self.gmm_confidence).to(r.dtype)


def _response(r_low: Tensor, out_size) -> Tensor:
    """(n, h, w) -> (n, H, W): the released code's bilinear upsampling of the response."""
    return F.interpolate(r_low[None], size=out_size, mode="bilinear", align_corners=False)[0]


def _log1m(p: Tensor) -> Tensor:
    """log(1 - p + 1e-6), rounded in the released code's order (1 - p first, then + eps)."""
    return torch.rsub(p, 1.0).add_(EPS).log_()


def _softmax_into(z: Tensor, out: Tensor) -> Tensor:
    """Softmax over dim 0 of (K, N) ``z`` written into ``out``: no allocation of (K, N)."""
    torch.sub(z, z.amax(0, keepdim=True), out=out).exp_()
    return out.div_(out.sum(0, keepdim=True))


def _chunks(n: int, max_size: int):
    """Nearly equal slices [s, e) covering range(n), none longer than ``max_size``."""
    size = -(-n // -(-n // max(1, max_size)))
    return [slice(s, min(s + size, n)) for s in range(0, n, size)]


# Elements per slice of the memory-bound passes (12 MB of float32, a VOC crop's logits): a
# whole (K, H, W) or (n, C, h*w) image at Cityscapes size is several times the CPU's cache and
# about twice as slow to pass over; smaller slices multiply the number of ops, and every op
# costs a synchronisation of the threads, expensive on a shared CPU.
_SLICE = 3 * 2 ** 20


def _compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """float64 for float64 inputs, else float32 (bfloat16 / float16 from autocast included)."""
    return torch.float64 if dtype == torch.float64 else torch.float32


def _autocast_off(x: Tensor):
    """A context without autocast on ``x``'s device: the reductions must stay in float32."""
    return torch.autocast(device_type=x.device.type, enabled=False)


class _PrototypeDistances(torch.autograd.Function):
    @staticmethod
    def forward(ctx, features, splats):
        ctx.features_dtype = features.dtype
        cd = _compute_dtype(features.dtype)
        with _autocast_off(features):
            return _PrototypeDistances._forward(ctx, features.to(cd), [s.to(cd) for s in splats])

    @staticmethod
    def _forward(ctx, features, splats):
        B, C, hw = features.shape
        protos, dists = [], []
        for b in range(B):
            n = splats[b].shape[0]
            if not n:
                continue
            v = splats[b] @ features[b].t()
            d = features.new_empty(n, hw)
            tiles = _chunks(hw, max(16, _SLICE // (n * C)))
            diff = features.new_empty(n, C, tiles[0].stop)
            for cols in tiles:
                part = diff[..., :cols.stop - cols.start]
                torch.sub(features[b, None, :, cols], v[:, :, None], out=part).abs_()
                torch.sum(part, 1, out=d[:, cols])
            protos.append(v)
            dists.append(d.div_(C))
        protos = torch.cat(protos) if protos else features.new_zeros(0, C)
        dists = torch.cat(dists) if dists else features.new_zeros(0, hw)
        ctx.save_for_backward(features, protos)
        ctx.splats = splats
        return protos, dists

    @staticmethod
    def backward(ctx, g_protos, g_dists):
        with _autocast_off(g_dists):
            grad = _PrototypeDistances._backward(ctx, g_protos, g_dists)
        return grad.to(ctx.features_dtype), None

    @staticmethod
    def _backward(ctx, g_protos, g_dists):
        features, protos = ctx.saved_tensors
        B, C, hw = features.shape
        grad = torch.empty_like(features)
        diff = features.new_empty(C, hw)
        row = 0
        for b in range(B):
            n = ctx.splats[b].shape[0]
            g_f = grad[b]
            if not n:
                g_f.zero_()
                continue
            g_v = g_protos[row:row + n].clone()
            for i in range(n):
                # d |F - v| = sign(F - v) (dF - dv); sign(0) = 0 as torch's abs.
                sign = torch.sub(features[b], protos[row + i, :, None], out=diff).sign_()
                g_d = g_dists[row + i] / C
                if i:
                    g_f.addcmul_(sign, g_d)
                else:
                    torch.mul(sign, g_d, out=g_f)
                g_v[i] -= torch.mv(sign, g_d)
            # v = splat @ F^T, so dF += dv^T @ splat.
            g_f.addmm_(g_v.t(), ctx.splats[b])
            row += n
        return grad


def prototype_distances(features: Tensor, splats: List[Tensor]):
    """Prototypes of the present classes and the channel-mean L1 distances to them.

    Args:
        features (Tensor): (B, C, h*w) low-resolution features.
        splats (list[Tensor]): per image, (n_b, h*w) weights (no gradient): prototype
            ``v[b, i] = splats[b][i] @ features[b].T``.

    Returns:
        protos (Tensor): (sum_b n_b, C) prototypes, image by image.
        dists (Tensor): (sum_b n_b, h*w), ``mean_c |features[b, c, q] - v[b, i, c]|``.
    """
    return _PrototypeDistances.apply(features, splats)


def _labeled_sum(r_ann: Tensor, plan: ImagePlan) -> Tensor:
    """Sum over annotated pixels of the u-weighted class mean of the labeled GMM term;
    r_ann (n, m) = R there."""
    y = plan.ann_cls[None] == plan.present[:, None]
    t = torch.where(y, (r_ann + EPS).log(), _log1m(r_ann))
    return -torch.mv(t.t(), plan.gmm_coef).sum() / 2


def _labeled_grad(r_ann: Tensor, plan: ImagePlan) -> Tensor:
    """d gmm_labeled / dR = (-Y / (R + eps) + (1 - Y) / (1 - R + eps)) / 2, weighted; (n, m)."""
    y = plan.ann_cls[None] == plan.present[:, None]
    d = torch.where(y, -(r_ann + EPS).reciprocal(), torch.rsub(r_ann, 1.0).add_(EPS).reciprocal_())
    return d.mul_(plan.gmm_coef[:, None] / 2)


class _DenseTerms(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, r_low, plans, compute_dtype, use_ce, use_gmm):
        ctx.r_low_dtype = r_low.dtype
        with _autocast_off(logits):
            return _DenseTerms._forward(ctx, logits, r_low.to(compute_dtype), plans,
                                        compute_dtype, use_ce, use_gmm)

    @staticmethod
    def _forward(ctx, logits, r_low, plans, compute_dtype, use_ce, use_gmm):
        K, H, W = logits.shape[1:]
        chunks = _chunks(H * W, _SLICE // K)
        ce, absent, gmm_unlabeled, gmm_labeled = (
            logits.new_zeros((), dtype=compute_dtype) for _ in range(4))
        p_buf = logits.new_empty(K, chunks[0].stop, dtype=compute_dtype)
        log1m_buf = torch.empty_like(p_buf)
        for b, plan in enumerate(plans):
            z = logits[b].reshape(K, -1)
            gmm = use_gmm and plan.present.numel() > 0
            if use_ce and plan.ann_pix.numel():
                z_ann = z[:, plan.ann_pix].to(compute_dtype)
                ce -= z_ann.log_softmax(0).gather(0, plan.ann_cls[None]).sum()
            if gmm:
                r = _response(r_low[b, plan.present], (H, W)).view(plan.present.numel(), -1)
                if plan.ann_pix.numel():
                    gmm_labeled += _labeled_sum(r[:, plan.ann_pix], plan)
            elif plan.absent_coef is None:
                continue
            for px in chunks:
                m = px.stop - px.start
                p = _softmax_into(z[:, px].to(compute_dtype), p_buf[:, :m])
                # log(1 - P + eps); -P + 1 rounds as 1 - P.
                log1m_p = torch.neg(p, out=log1m_buf[:, :m]).add_(1).add_(EPS).log_()
                valid = plan.valid[px]
                if plan.absent_coef is not None:
                    absent -= torch.mv(log1m_p.t(), plan.absent_coef).dot(valid)
                if gmm:
                    log1m_ps = log1m_p[plan.present]
                    # -(R log P + (1 - R) log(1 - P)) = -(log(1 - P) + R (log P - log(1 - P)))
                    t = p[plan.present].add_(EPS).log_().sub_(log1m_ps)
                    t.mul_(r[:, px]).add_(log1m_ps)
                    gate = plan.gmm_gate(r[:, px])
                    gmm_valid = valid if gate is None else valid * gate
                    gmm_unlabeled -= torch.mv(t.t(), plan.unlabeled_weights).dot(gmm_valid) / 2
        ctx.save_for_backward(logits, r_low)
        ctx.plans = plans
        ctx.flags = compute_dtype, use_ce, use_gmm
        return ce, absent, gmm_unlabeled, gmm_labeled

    @staticmethod
    def backward(ctx, g_ce, g_absent, g_unlabeled, g_labeled):
        with _autocast_off(g_ce):
            grad_logits, grad_r_low = _DenseTerms._backward(ctx, g_ce, g_absent, g_unlabeled,
                                                            g_labeled)
        if grad_r_low is not None:
            grad_r_low = grad_r_low.to(ctx.r_low_dtype)
        return grad_logits, grad_r_low, None, None, None, None

    @staticmethod
    def _backward(ctx, g_ce, g_absent, g_unlabeled, g_labeled):
        logits, r_low = ctx.saved_tensors
        cd, use_ce, use_gmm = ctx.flags
        K, H, W = logits.shape[1:]
        chunks = _chunks(H * W, _SLICE // K)
        want_r = ctx.needs_input_grad[1] and use_gmm
        grad_logits = None
        if ctx.needs_input_grad[0]:
            grad_logits = logits.new_empty(logits.shape)  # contiguous, whatever the input strides
        grad_r_low = torch.zeros_like(r_low) if want_r else None
        p_buf = logits.new_empty(K, chunks[0].stop, dtype=cd)
        # Work in the output itself when it has the compute dtype.
        g_buf = torch.empty_like(p_buf) if grad_logits is None or grad_logits.dtype != cd else None
        for b, plan in enumerate(ctx.plans):
            z = logits[b].reshape(K, -1)
            g_z_img = None if grad_logits is None else grad_logits[b].view(K, -1)
            gmm = use_gmm and plan.present.numel() > 0
            if plan.absent_coef is None and not gmm:
                if g_z_img is not None:
                    g_z_img.zero_()
            elif gmm:
                n = plan.present.numel()
                with torch.enable_grad():
                    r_in = r_low[b, plan.present].detach().requires_grad_(want_r)
                    r_graph = _response(r_in, (H, W))
                r = r_graph.detach().view(n, -1)
                g_r = torch.empty_like(r) if want_r else None
                coef = (plan.unlabeled_weights * g_unlabeled / 2)[:, None]
            for px in chunks if plan.absent_coef is not None or gmm else []:
                m = px.stop - px.start
                p = _softmax_into(z[:, px].to(cd), p_buf[:, :m])
                g = g_z_img[:, px] if g_buf is None else g_buf[:, :m]
                # d/dP of the absent term: (1 - c) / (1 - P + eps).
                torch.neg(p, out=g).add_(1).add_(EPS).reciprocal_()
                valid = plan.valid[px]
                if gmm:
                    inv1m_ps, ps = g[plan.present], p[plan.present]
                if plan.absent_coef is not None:
                    g.mul_((g_absent * plan.absent_coef)[:, None])
                else:
                    g.zero_()
                if gmm:
                    # d gmm_unlabeled / dP = ((1 - R) / (1 - P + eps) - R / (P + eps)) / 2
                    g_ps = (ps + EPS).reciprocal_().add_(inv1m_ps).mul_(r[:, px])
                    g_gmm = torch.sub(inv1m_ps, g_ps).mul_(coef)
                    # Pixels the confidence gate leaves out get no GMM gradient; g is multiplied
                    # by valid below, so only the gate's own zeros are applied here.
                    gate = plan.gmm_gate(r[:, px])
                    if gate is not None:
                        g_gmm.mul_(gate)
                    g.index_add_(0, plan.present, g_gmm)
                    if want_r:
                        # d gmm_unlabeled / dR = (log(1 - P + eps) - log(P + eps)) / 2 where valid.
                        torch.mul(inv1m_ps.log_().add_(ps.add_(EPS).log_()), -coef, out=g_r[:, px])
                        g_r[:, px] *= valid if gate is None else valid * gate
                if g_z_img is None:
                    continue
                # Softmax backward: dZ = P * (dP - sum_k P dP).
                g.mul_(valid).mul_(p)
                g.addcmul_(p, g.sum(0, keepdim=True), value=-1)
                if g_buf is not None:
                    g_z_img[:, px] = g
            if g_z_img is not None and use_ce and plan.ann_pix.numel():
                # Cross-entropy backward at the annotated pixels: P - onehot(T).
                g_ann = z[:, plan.ann_pix].to(cd).softmax(0) * g_ce
                g_ann[plan.ann_cls, torch.arange(plan.ann_pix.numel(), device=g_ann.device)] -= g_ce
                g_z_img[:, plan.ann_pix] += g_ann.to(g_z_img.dtype)
            if gmm and want_r:
                if plan.ann_pix.numel():
                    g_r[:, plan.ann_pix] += _labeled_grad(r[:, plan.ann_pix], plan) * g_labeled
                (g_r_low,) = torch.autograd.grad(r_graph, r_in, g_r.view(n, H, W))
                grad_r_low[b, plan.present] = g_r_low
        return grad_logits, grad_r_low


def dense_terms(logits: Tensor, r_low: Tensor, plans: List[ImagePlan], compute_dtype: torch.dtype,
                use_ce: bool, use_gmm: bool):
    """Sums over pixels of the four full-resolution terms, with fused analytic gradients.

    Args:
        logits (Tensor): (B, K, H, W) class logits Z, any float dtype (read in ``compute_dtype``;
            its gradient has its dtype).
        r_low (Tensor): (B, K, h, w) low-resolution response, any float dtype (read in
            ``compute_dtype``; its gradient has its dtype); only the rows
            of each image's present classes are read, and only they receive a gradient.
        plans (list[ImagePlan]): one per image.
        compute_dtype (torch.dtype): float32 or float64; every log and exp runs in it.
        use_ce (bool): compute the partial cross-entropy (otherwise it is 0).
        use_gmm (bool): compute the two GMM terms (otherwise they are 0 and R is not read).

    Returns:
        (ce, absent, gmm_unlabeled, gmm_labeled): scalars in ``compute_dtype``. ``ce`` and
        ``gmm_labeled`` are sums over the annotated valid pixels, ``absent`` and ``gmm_unlabeled``
        sums over the valid pixels, of the per-pixel values of docs/method.md (the two GMM terms
        already reduced over classes with the u-weighted mean). The caller divides by the pixel
        counts.
    """
    return _DenseTerms.apply(logits, r_low, plans, compute_dtype, use_ce, use_gmm)
