"""The full-resolution terms of the AGMM loss, fused into one autograd Function.

Partial cross-entropy, the absent-class term and the two Gaussian-mixture terms (``l1`` on
valid pixels, ``l2`` on annotated ones) all read the softmax of the logits or the upsampled
response R at input resolution. Written with plain autograd they cost a dozen passes over
(B, K, H, W) tensors and save as many for the backward. Here they run image by image (a
(K, H, W) slice stays in the CPU's cache), share one softmax, read R only for the classes
present in the crop (R is 0 for the others, and so are their weights), and the backward
recomputes softmax and R instead of saving them: nothing of full resolution is kept between
forward and backward beyond the logits themselves.
"""
from dataclasses import dataclass
from typing import List, Optional

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["ImagePlan", "dense_terms"]

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
    """

    valid: Tensor
    ann_pix: Tensor
    ann_cls: Tensor
    absent_coef: Optional[Tensor]
    present: Tensor
    gmm_coef: Tensor


def _response(r_low: Tensor, out_size) -> Tensor:
    """(n, h, w) -> (n, H, W): the released code's bilinear upsampling of the response."""
    return F.interpolate(r_low[None], size=out_size, mode="bilinear", align_corners=False)[0]


def _log1m(p: Tensor) -> Tensor:
    """log(1 - p + 1e-6), rounded in the released code's order (1 - p first, then + eps)."""
    return torch.rsub(p, 1.0).add_(EPS).log_()


class _DenseTerms(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, r_low, plans, compute_dtype, use_ce, use_gmm):
        K, H, W = logits.shape[1:]
        ce, absent, l1, l2 = (logits.new_zeros((), dtype=compute_dtype) for _ in range(4))
        for b, plan in enumerate(plans):
            z = logits[b].to(compute_dtype)
            gmm = use_gmm and plan.present.numel() > 0
            if use_ce and plan.ann_pix.numel():
                z_ann = z.reshape(K, -1)[:, plan.ann_pix]
                ce -= z_ann.log_softmax(0).gather(0, plan.ann_cls[None]).sum()
            if plan.absent_coef is None and not gmm:
                continue
            p = torch.softmax(z, 0)
            log1m_p = _log1m(p)
            if plan.absent_coef is not None:
                absent -= torch.mv(log1m_p.view(K, -1).t(), plan.absent_coef).dot(plan.valid)
            if not gmm:
                continue
            n = plan.present.numel()
            r = _response(r_low[b, plan.present], (H, W)).view(n, -1)
            log1m_ps = log1m_p.view(K, -1)[plan.present]
            # -(R log P + (1 - R) log(1 - P)) = -(log(1 - P) + R (log P - log(1 - P)))
            t = (p.view(K, -1)[plan.present] + EPS).log_().sub_(log1m_ps).mul_(r).add_(log1m_ps)
            l1 -= torch.mv(t.t(), plan.gmm_coef).dot(plan.valid) / 2
            if plan.ann_pix.numel():
                r_ann = r[:, plan.ann_pix]
                y = plan.ann_cls[None] == plan.present[:, None]
                t = torch.where(y, (r_ann + EPS).log(), _log1m(r_ann))
                l2 -= torch.mv(t.t(), plan.gmm_coef).sum() / 2
        ctx.save_for_backward(logits, r_low)
        ctx.plans = plans
        ctx.flags = compute_dtype, use_ce, use_gmm
        return ce, absent, l1, l2

    @staticmethod
    def backward(ctx, g_ce, g_absent, g_l1, g_l2):
        logits, r_low = ctx.saved_tensors
        cd, use_ce, use_gmm = ctx.flags
        K, H, W = logits.shape[1:]
        want_r = ctx.needs_input_grad[1] and use_gmm
        grad_logits = torch.empty_like(logits) if ctx.needs_input_grad[0] else None
        grad_r_low = torch.zeros_like(r_low) if want_r else None
        for b, plan in enumerate(ctx.plans):
            gmm = use_gmm and plan.present.numel() > 0
            ce = use_ce and plan.ann_pix.numel() > 0
            if plan.absent_coef is None and not gmm and not ce:
                if grad_logits is not None:
                    grad_logits[b].zero_()
                continue
            p = torch.softmax(logits[b].to(cd), 0).view(K, -1)
            # d/dP of the absent term: (1 - c) / (1 - P + eps).
            g_p = torch.rsub(p, 1.0).add_(EPS).reciprocal_()
            if gmm:
                n = plan.present.numel()
                inv1m_ps = g_p[plan.present]
                with torch.enable_grad():
                    r_in = r_low[b, plan.present].detach().requires_grad_(want_r)
                    r_graph = _response(r_in, (H, W))
                r = r_graph.detach().view(n, -1)
                ps = p[plan.present]
                coef = (plan.gmm_coef / 2)[:, None]
            if plan.absent_coef is not None:
                g_p.mul_((g_absent * plan.absent_coef)[:, None])
            else:
                g_p.zero_()
            if gmm:
                # d l1 / dP = ((1 - R) / (1 - P + eps) - R / (P + eps)) / 2
                g_ps = (ps + EPS).reciprocal_().add_(inv1m_ps).mul_(r)
                g_p.index_add_(0, plan.present, torch.sub(inv1m_ps, g_ps).mul_(coef * g_l1))
            if gmm and want_r:
                # d l1 / dR = (log(1 - P + eps) - log(P + eps)) / 2, on valid pixels only.
                g_r = inv1m_ps.log_().add_((ps + EPS).log_()).mul_(-coef * g_l1)
                g_r.mul_(plan.valid)
                if plan.ann_pix.numel():
                    # d l2 / dR = (-Y / (R + eps) + (1 - Y) / (1 - R + eps)) / 2
                    r_ann = r[:, plan.ann_pix]
                    y = plan.ann_cls[None] == plan.present[:, None]
                    d = torch.where(y, -(r_ann + EPS).reciprocal(), torch.rsub(r_ann, 1.0).add_(EPS).reciprocal_())
                    g_r[:, plan.ann_pix] += d.mul_(coef * g_l2)
                (grad_r_low[b, plan.present],) = torch.autograd.grad(r_graph, r_in, g_r.view(n, H, W))
            if grad_logits is None:
                continue
            g_p.mul_(plan.valid)
            # Softmax backward: dZ = P * (dP - sum_k P dP).
            g_z = g_p.mul_(p)
            g_z.addcmul_(p, g_z.sum(0, keepdim=True), value=-1)
            if ce:
                # Cross-entropy backward at the annotated pixels: P - onehot(T).
                g_ann = p[:, plan.ann_pix] * g_ce
                g_ann[plan.ann_cls, torch.arange(plan.ann_pix.numel(), device=g_ann.device)] -= g_ce
                g_z[:, plan.ann_pix] += g_ann
            grad_logits[b].copy_(g_z.view(K, H, W))
        return grad_logits, grad_r_low, None, None, None, None


def dense_terms(logits: Tensor, r_low: Tensor, plans: List[ImagePlan], compute_dtype: torch.dtype,
                use_ce: bool, use_gmm: bool):
    """Sums over pixels of the four full-resolution terms, with fused analytic gradients.

    Args:
        logits (Tensor): (B, K, H, W) class logits Z, any float dtype (read in ``compute_dtype``).
        r_low (Tensor): (B, K, h, w) low-resolution response in ``compute_dtype``; only the rows
            of each image's present classes are read, and only they receive a gradient.
        plans (list[ImagePlan]): one per image.
        compute_dtype (torch.dtype): float32 or float64; every log and exp runs in it.
        use_ce (bool): compute the partial cross-entropy (otherwise it is 0).
        use_gmm (bool): compute the two GMM terms (otherwise they are 0 and R is not read).

    Returns:
        (ce, absent, l1, l2): scalars in ``compute_dtype``. ``ce`` and ``l2`` are sums over the
        annotated valid pixels, ``absent`` and ``l1`` sums over the valid pixels, of the
        per-pixel values of the spec (``l1``, ``l2`` already reduced over classes with the
        u-weighted mean). The caller divides by the pixel counts.
    """
    return _DenseTerms.apply(logits, r_low, plans, compute_dtype, use_ce, use_gmm)
