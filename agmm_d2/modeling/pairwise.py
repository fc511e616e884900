"""A pairwise term in image space: the Gated CRF loss (Obukhov et al., "Gated CRF Loss for Weakly
Supervised Semantic Image Segmentation", 2019), docs/method.md, Section 10.

Neighbouring pixels of similar colour are pushed to predict the same class distribution: a Potts
penalty on the predicted probabilities, weighted by a Gaussian kernel on position and colour,
over a local window, gated off on padding, computed at a reduced resolution. It reads no label,
so it works with any label type, and it is plain PyTorch: CPU and GPU alike. The window runs as
one shifted-slice product per offset, half the offsets (the pairs are symmetric); ``unfold``
would copy every input (2r+1)^2 times and costs about 3x as much per training step.
"""
from typing import Dict

import torch
import torch.nn.functional as F
from detectron2.config import configurable
from torch import Tensor, nn

from ..config import check_pairwise_options

__all__ = ["PairwiseLoss", "downscale_masked", "gated_crf_loss", "pair_kernel"]


def downscale_masked(x: Tensor, valid: Tensor, factor: int):
    """Mean of ``x`` over the valid pixels of each ``factor`` x ``factor`` cell.

    The image is first padded at the bottom and right to a multiple of ``factor`` (padding is
    not valid).

    Args:
        x (Tensor): (B, n, H, W).
        valid (Tensor): (B, H, W) bool.

    Returns:
        x_low (Tensor): (B, n, h, w), h = ceil(H / factor); 0 in cells without a valid pixel.
        gate (Tensor): (B, 1, h, w), the fraction of each cell's factor^2 pixels that are valid.
    """
    H, W = x.shape[-2:]
    pad = (0, (-W) % factor, 0, (-H) % factor)
    m = F.pad(valid[:, None].to(x.dtype), pad)
    gate = F.avg_pool2d(m, factor)
    x_low = F.avg_pool2d(F.pad(x, pad) * m, factor) / torch.where(gate > 0, gate, 1.0)
    return x_low, gate


def pair_kernel(sq_position: Tensor, sq_colour: Tensor, sigma_xy: float,
                sigma_rgb: float) -> Tensor:
    """K = exp(-|dp|^2 / (2 sigma_xy^2) - |dI|^2 / (2 sigma_rgb^2)), broadcast."""
    return torch.exp(-sq_position / (2 * sigma_xy ** 2) - sq_colour / (2 * sigma_rgb ** 2))


def gated_crf_loss(probs: Tensor, images: Tensor, valid: Tensor, *, radius: int, sigma_xy: float,
                   sigma_rgb: float, downscale: int) -> Tensor:
    """The Gated CRF loss with a Potts penalty, per valid (low-resolution) pixel.

    ``sum_i sum_{j in window(i), j != i} g_i g_j K_ij (1 - sum_k y_ik y_jk) / sum_i g_i``,
    ``K_ij = exp(-|p_i - p_j|^2 / (2 sigma_xy^2) - |I_i - I_j|^2 / (2 sigma_rgb^2))``, over the
    cells of the downscaled image (positions p in its pixels), y and I the means of the
    probabilities and colours over each cell's valid pixels, g the valid fraction of a cell.

    Args:
        probs (Tensor): (B, K, H, W) predicted class probabilities (gradient flows into them).
        images (Tensor): (B, 3, H, W) the images' colours, 0-255 (no gradient).
        valid (Tensor): (B, H, W) bool, False on padding.
        radius (int): r, the window is (2r + 1) x (2r + 1) cells.
        sigma_xy (float): position bandwidth, in cells (pixels of the downscaled image).
        sigma_rgb (float): colour bandwidth, in grey levels (0-255).
        downscale (int): side of the cells, in input pixels.

    Returns:
        Tensor: scalar in the dtype of ``probs``; 0 when no pixel is valid.
    """
    y, gate = downscale_masked(probs, valid, downscale)
    rgb, _ = downscale_masked(images.to(probs.dtype), valid, downscale)
    total = probs.new_zeros(())
    # K_ij and the Potts penalty are symmetric: each unordered pair once, counted twice.
    for dy, dx in _half_window(radius):
        i, j = _pair_slices(dy, dx, y.shape[-2:])
        if i is None:
            continue
        sq_position = probs.new_tensor(float(dy * dy + dx * dx))
        sq_colour = (rgb[i] - rgb[j]).pow(2).sum(1)
        kernel = pair_kernel(sq_position, sq_colour, sigma_xy, sigma_rgb)
        kernel = kernel * gate[i][:, 0] * gate[j][:, 0]
        total = total + (kernel * (1 - (y[i] * y[j]).sum(1))).sum()
    n_valid = gate.sum()
    return 2 * total / torch.where(n_valid > 0, n_valid, 1.0)


def _half_window(radius: int):
    """The offsets (dy, dx) of half the (2r+1)^2 window: one of each pair (dy, dx), (-dy, -dx),
    without (0, 0)."""
    return [(dy, dx) for dy in range(radius + 1) for dx in range(-radius, radius + 1)
            if dy > 0 or dx > 0]


def _pair_slices(dy: int, dx: int, size):
    """Index tuples i, j of (B, n, h, w) tensors such that x[j] is x[i] shifted by (dy, dx), over
    every cell whose neighbour at (dy, dx) is inside the grid; (None, None) if there is none."""
    h, w = size
    if dy >= h or abs(dx) >= w:
        return None, None
    left, right = max(0, -dx), max(0, dx)
    everything = slice(None)
    i = (everything, everything, slice(0, h - dy), slice(left, w - right))
    j = (everything, everything, slice(dy, h), slice(right, w - left))
    return i, j


class PairwiseLoss(nn.Module):
    """``gated_crf_loss`` of softmax(logits), weighted, from ``cfg.MODEL.PAIRWISE``."""

    @configurable
    def __init__(self, *, weight: float, radius: int = 5, sigma_xy: float = 6.0,
                 sigma_rgb: float = 15.0, downscale: int = 4):
        """
        Args:
            weight (float): multiplier of ``loss_pairwise``.
            radius, sigma_xy, sigma_rgb, downscale: see ``gated_crf_loss``.
        """
        super().__init__()
        check_pairwise_options(weight, radius, sigma_xy, sigma_rgb, downscale)
        self.weight = float(weight)
        self.radius = int(radius)
        self.sigma_xy = float(sigma_xy)
        self.sigma_rgb = float(sigma_rgb)
        self.downscale = int(downscale)

    @classmethod
    def from_config(cls, cfg):
        p = cfg.MODEL.PAIRWISE
        return {"weight": p.WEIGHT, "radius": p.RADIUS, "sigma_xy": p.SIGMA_XY,
                "sigma_rgb": p.SIGMA_RGB, "downscale": p.DOWNSCALE}

    def forward(self, logits: Tensor, images: Tensor, valid: Tensor) -> Dict[str, Tensor]:
        """
        Args:
            logits (Tensor): (B, K, H, W) class logits.
            images (Tensor): (B, 3, H, W) colours 0-255, any channel order.
            valid (Tensor): (B, H, W) bool, False on padding.

        Returns:
            {"loss_pairwise": scalar}, computed in float32 (float64 for float64 logits) also
            under autocast.
        """
        cd = torch.float64 if logits.dtype == torch.float64 else torch.float32
        with torch.autocast(device_type=logits.device.type, enabled=False):
            loss = gated_crf_loss(logits.to(cd).softmax(1), images, valid.bool(),
                                  radius=self.radius, sigma_xy=self.sigma_xy,
                                  sigma_rgb=self.sigma_rgb, downscale=self.downscale)
        return {"loss_pairwise": loss * self.weight}

    def extra_repr(self) -> str:
        return (f"weight={self.weight}, radius={self.radius}, sigma_xy={self.sigma_xy}, "
                f"sigma_rgb={self.sigma_rgb}, downscale={self.downscale}")
