"""DeepLabV3+ head that returns its decoder features as well as its logits (AGMM needs both)."""
from typing import Dict, Tuple

from detectron2.config import configurable
from detectron2.layers import Conv2d, ShapeSpec
from detectron2.modeling import SEM_SEG_HEADS_REGISTRY
from detectron2.projects.deeplab import DeepLabV3PlusHead
from torch import Tensor, nn
from torch.nn import functional as F

__all__ = ["AGMMDeepLabV3PlusHead"]


@SEM_SEG_HEADS_REGISTRY.register()
class AGMMDeepLabV3PlusHead(DeepLabV3PlusHead):
    """detectron2's DeepLabV3+ decoder (ASPP on the deepest feature, projected low-level
    features, two 3x3 fuse convs) followed by a 1x1 classifier.

    The parent is built without classes (its ``decoder_only`` mode), so its ``layers`` returns
    the fused decoder output; this class owns the classifier and computes no loss: the
    meta-architecture does, because the AGMM terms need the features too.
    """

    @configurable
    def __init__(self, input_shape: Dict[str, ShapeSpec], *, num_classes: int, **kwargs):
        """
        Args:
            input_shape: shapes of the backbone features the head reads, e.g. res2 and res5.
            num_classes: K, the number of output channels of the classifier.
            kwargs: the arguments of detectron2's ``DeepLabV3PlusHead`` except its loss ones
                (``decoder_channels``, ``aspp_dilations``, ``project_channels``, ``norm``, ...).
        """
        super().__init__(input_shape, num_classes=None, **kwargs)
        self.num_classes = num_classes
        self.predictor = Conv2d(kwargs["decoder_channels"][0], num_classes, kernel_size=1)
        # Same initialisation as detectron2's DeepLab classifier.
        nn.init.normal_(self.predictor.weight, 0, 0.001)
        nn.init.constant_(self.predictor.bias, 0)

    @classmethod
    def from_config(cls, cfg, input_shape):
        ret = super().from_config(cfg, input_shape)
        # Global average pooling in ASPP at any input size, as the released DeepLabV3+; it also
        # allows crops that are not a multiple of the stride (Cityscapes: 721).
        ret["train_size"] = None
        for key in ("loss_weight", "loss_type", "ignore_value"):
            ret.pop(key)
        return ret

    def forward(self, features: Dict[str, Tensor]) -> Tuple[Tensor, Tensor]:
        """
        Args:
            features: backbone features by name, each (B, C_f, H / s_f, W / s_f); H and W must
                be multiples of the largest stride s_f.

        Returns:
            decoder (Tensor): (B, C, H / common_stride, W / common_stride) fused decoder
                features before the classifier (C = CONVS_DIM, 256 in DeepLabV3+).
            logits (Tensor): (B, K, H, W) class logits, upsampled bilinearly to the input size.
        """
        decoder = self.layers(features)
        logits = F.interpolate(self.predictor(decoder), scale_factor=self.common_stride,
                               mode="bilinear", align_corners=False)
        return decoder, logits
