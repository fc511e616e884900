"""Augmentations of the released AGMM recipe that detectron2 does not ship as such.

Geometric ones return detectron2/fvcore transforms (ResizeTransform, CropTransform,
PadTransform), so images, labels and masks move together. Photometric ones return
``ColorTransform``/``PILColorTransform``, which leave labels untouched. All randomness comes
from NumPy's global generator, as in detectron2's own augmentations.
"""
from typing import Sequence, Tuple

import numpy as np
import torchvision.transforms.functional as TF
from detectron2.data import transforms as T
from PIL import Image, ImageFilter


class RandomLongSideRescale(T.Augmentation):
    """Resize so the long side becomes ``long_side * s``, s uniform in ``scale_range``.

    The new long side is an integer drawn uniformly between the scaled bounds and the short
    side follows the aspect ratio, as the released code does. Labels use nearest neighbour
    (ResizeTransform.apply_segmentation).
    """

    def __init__(self, scale_range: Tuple[float, float] = (0.5, 2.0), interp=Image.BILINEAR):
        super().__init__()
        self._init(locals())

    def get_transform(self, image):
        h, w = image.shape[:2]
        long_side = max(h, w)
        lo, hi = int(long_side * self.scale_range[0]), int(long_side * self.scale_range[1])
        new_long = int(np.random.randint(lo, hi + 1))
        if h > w:
            new_h, new_w = new_long, int(w * new_long / h + 0.5)
        else:
            new_h, new_w = int(h * new_long / w + 0.5), new_long
        return T.ResizeTransform(h, w, max(new_h, 1), max(new_w, 1), self.interp)


class RandomCropWithPad(T.Augmentation):
    """Random crop of ``crop_size`` (h, w); a side shorter than the crop is padded at its end.

    Equivalent to the released code's "pad bottom/right to the crop size, then crop at a
    uniform offset". Padding gives ``pad_value`` in images and ``seg_pad_value`` in labels and
    masks. Unlike detectron2's FixedSizeCrop, the x and y offsets are drawn independently.
    """

    def __init__(self, crop_size: Sequence[int], pad_value: float = 0.0, seg_pad_value: int = 255):
        super().__init__()
        self._init(locals())

    def get_transform(self, image):
        h, w = image.shape[:2]
        crop_h, crop_w = int(self.crop_size[0]), int(self.crop_size[1])
        y0 = int(np.random.randint(0, max(h - crop_h, 0) + 1))
        x0 = int(np.random.randint(0, max(w - crop_w, 0) + 1))
        kept_h, kept_w = min(h, crop_h), min(w, crop_w)
        tfms = [T.CropTransform(x0, y0, kept_w, kept_h, w, h)]
        if kept_h < crop_h or kept_w < crop_w:
            tfms.append(T.PadTransform(0, 0, crop_w - kept_w, crop_h - kept_h, kept_w, kept_h,
                                       pad_value=self.pad_value, seg_pad_value=self.seg_pad_value))
        return T.TransformList(tfms)


class RandomColorJitter(T.Augmentation):
    """torchvision's ColorJitter(brightness, contrast, saturation, hue) on an RGB uint8 image.

    Factors and the order of the four operations are drawn here (NumPy), then applied with
    torchvision's PIL functions, so the result matches torchvision's ColorJitter.
    """

    def __init__(self, brightness=0.5, contrast=0.5, saturation=0.5, hue=0.25):
        super().__init__()
        self._init(locals())

    def get_transform(self, image):
        ops = []
        for fn, amount in ((TF.adjust_brightness, self.brightness),
                           (TF.adjust_contrast, self.contrast),
                           (TF.adjust_saturation, self.saturation)):
            if amount > 0:
                ops.append((fn, float(np.random.uniform(max(0.0, 1 - amount), 1 + amount))))
        if self.hue > 0:
            ops.append((TF.adjust_hue, float(np.random.uniform(-self.hue, self.hue))))
        ops = [ops[i] for i in np.random.permutation(len(ops))]

        def jitter(img):
            for fn, factor in ops:
                img = fn(img, factor)
            return img

        return T.PILColorTransform(jitter)


class RandomGrayscale(T.Augmentation):
    """Replace the image by its luminance, repeated on the three channels (use with RandomApply)."""

    def get_transform(self, image):
        return T.PILColorTransform(lambda img: img.convert("L").convert("RGB"))


class RandomGaussianBlur(T.Augmentation):
    """PIL Gaussian blur with a radius (sigma, in pixels) uniform in ``sigma_range``."""

    def __init__(self, sigma_range: Tuple[float, float] = (0.1, 2.0)):
        super().__init__()
        self._init(locals())

    def get_transform(self, image):
        sigma = float(np.random.uniform(*self.sigma_range))
        return T.PILColorTransform(lambda img: img.filter(ImageFilter.GaussianBlur(radius=sigma)))


class RandomBrightnessShift(T.Augmentation):
    """Add one value uniform in [-shift, shift] (grey levels) to every pixel and channel."""

    def __init__(self, shift: float = 10.0):
        super().__init__()
        self._init(locals())

    def get_transform(self, image):
        delta = float(np.random.uniform(-self.shift, self.shift))

        def add(img):
            return np.clip(np.around(img.astype(np.float32) + delta), 0, 255).astype(np.uint8)

        return T.ColorTransform(add)
