"""Modeling: the meta-architecture, the DeepLabV3+ head returning its features, the AGMM loss,
and the model's test-time inference (multi-scale + flip, sliding window)."""
from .agmm_loss import AGMMLoss, agmm_loss
from .head import AGMMDeepLabV3PlusHead
from .meta_arch import AGMMSemanticSegmentor
from .test_time import SemSegInference

__all__ = ["AGMMDeepLabV3PlusHead", "AGMMLoss", "AGMMSemanticSegmentor", "SemSegInference",
           "agmm_loss"]
