"""Test-time inference strategies that detectron2 lacks for semantic segmentation: multi-scale
and flipped inputs (VOC recipe) and sliding windows with overlap (Cityscapes recipe).

Each strategy averages class probabilities. With one scale of 1.0, no flip and no window it
is exactly one call of the predictor, so the plain model is the special case.
"""
import math
from typing import Callable, List, Optional, Sequence, Tuple

from detectron2.config import configurable
from torch import Tensor
from torch.nn import functional as F

__all__ = ["SemSegInference", "sliding_window", "window_starts"]

# (B, 3, h, w) normalized images -> (B, K, h, w) class probabilities
Predictor = Callable[[Tensor], Tensor]


def window_starts(length: int, window: int, overlap: float) -> List[int]:
    """Offsets of windows of size ``window`` covering ``[0, length)``, consecutive windows
    sharing about ``overlap`` of their size; the last window ends at ``length``."""
    window = min(window, length)
    stride = max(1, math.ceil(window * (1.0 - overlap)))
    count = math.ceil((length - window) / stride) + 1
    return [min(i * stride, length - window) for i in range(count)]


def sliding_window(predict: Predictor, image: Tensor, window: Sequence[int],
                   overlap: float) -> Tensor:
    """Average of ``predict`` over overlapping windows.

    Args:
        predict: maps (B, 3, h, w) images to (B, K, h, w) probabilities.
        image: (B, 3, H, W) normalized images.
        window: (h, w) window size in pixels; a side longer than the image is clipped to it,
            so a window covering the image gives exactly ``predict(image)``.
        overlap: fraction of a window's side shared with the next window, in [0, 1).

    Returns:
        (B, K, H, W) probabilities, each pixel averaged over the windows that contain it.
    """
    height, width = image.shape[-2:]
    win_h, win_w = min(window[0], height), min(window[1], width)
    total, count = None, image.new_zeros(1, 1, height, width)
    for y in window_starts(height, win_h, overlap):
        for x in window_starts(width, win_w, overlap):
            probs = predict(image[..., y:y + win_h, x:x + win_w])
            if total is None:
                total = probs.new_zeros(*probs.shape[:2], height, width)
            total[..., y:y + win_h, x:x + win_w] += probs
            count[..., y:y + win_h, x:x + win_w] += 1
    return total / count


class SemSegInference:
    """Multi-scale + flip averaging around an optional sliding-window predictor.

    For every scale s and (if ``flip``) both orientations, the image is resized by s, predicted
    (whole, or by sliding windows), flipped back, resized to the input size and averaged.
    """

    @configurable
    def __init__(self, *, scales: Sequence[float] = (1.0,), flip: bool = False,
                 window: Optional[Tuple[int, int]] = None, overlap: float = 2.0 / 3.0):
        """
        Args:
            scales: relative input scales (1.0 = input size).
            flip: also predict the horizontally flipped image.
            window: (h, w) of sliding windows in pixels, or None for whole-image inference.
            overlap: fraction of a window shared with the next one.
        """
        if not scales or min(scales) <= 0:
            raise ValueError(f"scales={scales}: expected positive scales")
        if not 0.0 <= overlap < 1.0:
            raise ValueError(f"overlap={overlap}: expected a fraction in [0, 1)")
        if window is not None and (len(window) != 2 or min(window) <= 0):
            raise ValueError(f"window={window}: expected (h, w) in pixels")
        self.scales = tuple(float(s) for s in scales)
        self.flip = flip
        self.window = None if window is None else (int(window[0]), int(window[1]))
        self.overlap = overlap

    @classmethod
    def from_config(cls, cfg):
        aug, sliding = cfg.TEST.AUG, cfg.TEST.SLIDING_WINDOW
        window = None
        if sliding.ENABLED:
            window = tuple(sliding.SIZE) or tuple(cfg.INPUT.CROP.SIZE)
        return {
            "scales": tuple(aug.SCALES) if aug.ENABLED else (1.0,),
            "flip": bool(aug.ENABLED and aug.FLIP),
            "window": window,
            "overlap": sliding.OVERLAP,
        }

    def _predict(self, predict: Predictor, image: Tensor) -> Tensor:
        if self.window is None:
            return predict(image)
        return sliding_window(predict, image, self.window, self.overlap)

    def __call__(self, predict: Predictor, image: Tensor) -> Tensor:
        """
        Args:
            predict: maps (B, 3, h, w) normalized images to (B, K, h, w) probabilities.
            image: (B, 3, H, W) normalized images.

        Returns:
            (B, K, H, W) probabilities averaged over scales, flips and windows.
        """
        size = tuple(image.shape[-2:])
        total, views = 0, 0
        for scale in self.scales:
            scaled_size = tuple(max(1, round(side * scale)) for side in size)
            scaled = image
            if scaled_size != size:
                scaled = F.interpolate(image, size=scaled_size, mode="bilinear",
                                       align_corners=False)
            for flipped in (False, True) if self.flip else (False,):
                view = scaled.flip(-1) if flipped else scaled
                probs = self._predict(predict, view)
                if flipped:
                    probs = probs.flip(-1)
                if scaled_size != size:
                    probs = F.interpolate(probs, size=size, mode="bilinear", align_corners=False)
                total, views = total + probs, views + 1
        return total / views if views > 1 else total
