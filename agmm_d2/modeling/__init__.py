"""Modeling: the meta-architecture, the DeepLabV3+ head returning its features, the AGMM loss."""
from .agmm_loss import AGMMLoss, agmm_loss
from .head import AGMMDeepLabV3PlusHead
from .meta_arch import AGMMSemanticSegmentor

__all__ = ["AGMMDeepLabV3PlusHead", "AGMMLoss", "AGMMSemanticSegmentor", "agmm_loss"]
