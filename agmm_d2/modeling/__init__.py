"""Modeling: the meta-architecture, the DeepLabV3+ head returning its features, the AGMM loss,
and the model's test-time inference (multi-scale + flip, sliding window)."""
from .agmm_loss import AGMMLoss, agmm_loss
from .agmm_loss import _bilinear_taps as bilinear_taps  # the taps the prototypes rest on
from .head import AGMMDeepLabV3PlusHead
from .meta_arch import AGMMSemanticSegmentor
from .test_time import SemSegInference

__all__ = ["AGMMDeepLabV3PlusHead", "AGMMLoss", "AGMMSemanticSegmentor", "SemSegInference",
           "agmm_loss", "bilinear_taps"]
