"""AGMMSemanticSegmentor: DeepLab backbone + DeepLabV3+ head, trained from sparse labels."""
from typing import Callable, Dict, List, NamedTuple, Optional

import torch
from detectron2.config import configurable
from detectron2.modeling import META_ARCH_REGISTRY, Backbone, build_backbone, build_sem_seg_head
from detectron2.modeling.postprocessing import sem_seg_postprocess
from detectron2.structures import ImageList
from detectron2.utils.events import get_event_storage, has_event_storage
from torch import Tensor, nn

from ..config import check_choice
from .agmm_loss import AGMMLoss
from .pairwise import PairwiseLoss
from .test_time import SemSegInference

__all__ = ["AGMMSemanticSegmentor", "TrainingView"]


@META_ARCH_REGISTRY.register()
class AGMMSemanticSegmentor(nn.Module):
    """Semantic segmentation trained with the AGMM loss (or partial cross-entropy alone).

    Training input: the dicts of ``SparseSemSegDatasetMapper`` ("image", "sparse_seg",
    "valid", "sparse_classes", and "image_classes" where the dataset has image-level labels).
    Inference input: detectron2's ``DatasetMapper`` dicts ("image", optionally "height"/"width");
    output ``[{"sem_seg": (K, height, width) probabilities}]`` at the original image size, as
    detectron2's ``SemanticSegmentor``.
    """

    @configurable
    def __init__(self, *, backbone: Backbone, sem_seg_head: nn.Module, criterion: Callable,
                 pixel_mean, pixel_std, ignore_value: int = 255,
                 test_time: Optional[Callable] = None,
                 absent_from: str = "sparse_classes",
                 pairwise: Optional[Callable] = None):
        """
        Args:
            backbone: a detectron2 backbone; the head reads some of its features.
            sem_seg_head: returns ``(decoder features (B, C, h, w), logits (B, K, H, W))``.
            criterion: ``criterion(features, logits, targets, valid, class_presence)`` -> dict of
                losses; ``AGMMLoss`` (its terms switched by MODEL.AGMM.*).
            pixel_mean, pixel_std: per-channel normalization in the input's channel order.
            ignore_value: target value of unlabeled pixels and of batch padding.
            test_time: ``test_time(predict, images)`` -> probabilities; see
                :class:`SemSegInference` (plain, multi-scale + flip, sliding window);
                default: plain whole-image inference.
            absent_from: the mapper's key holding the classes the loss takes as present in each
                image: "sparse_classes" (those its sparse label touches, as released) or
                "image_classes" (its complete image-level labels).
            pairwise: ``pairwise(logits, images, valid)`` -> {"loss_pairwise": scalar}, a term
                on the raw image colours (0-255) beside the criterion's (``PairwiseLoss``), or
                None (MODEL.PAIRWISE.WEIGHT 0).
        """
        super().__init__()
        self.backbone = backbone
        self.sem_seg_head = sem_seg_head
        self.criterion = criterion
        self.ignore_value = ignore_value
        # MODEL.AGMM.ABSENT_FROM: the key of the mapper's output that the loss takes as the
        # classes present in each image (c).
        check_choice("MODEL.AGMM.ABSENT_FROM", absent_from)
        self.absent_from = absent_from
        self.pairwise = pairwise
        self.test_time = test_time if test_time is not None else SemSegInference()
        self.register_buffer("pixel_mean", torch.tensor(pixel_mean).view(-1, 1, 1), False)
        self.register_buffer("pixel_std", torch.tensor(pixel_std).view(-1, 1, 1), False)
        # Pad to a multiple of the coarsest stride so that every feature map, and the logits
        # upsampled from the stride-4 decoder, align exactly with the padded input.
        strides = [shape.stride for shape in backbone.output_shape().values()]
        self.size_divisibility = max([backbone.size_divisibility] + strides)

    @classmethod
    def from_config(cls, cfg):
        backbone = build_backbone(cfg)
        return {
            "backbone": backbone,
            "sem_seg_head": build_sem_seg_head(cfg, backbone.output_shape()),
            "criterion": AGMMLoss(cfg),
            "pixel_mean": cfg.MODEL.PIXEL_MEAN,
            "pixel_std": cfg.MODEL.PIXEL_STD,
            "ignore_value": cfg.MODEL.SEM_SEG_HEAD.IGNORE_VALUE,
            "test_time": SemSegInference(cfg),
            "absent_from": cfg.MODEL.AGMM.ABSENT_FROM,
            "pairwise": PairwiseLoss(cfg) if cfg.MODEL.PAIRWISE.WEIGHT > 0 else None,
        }

    @property
    def device(self) -> torch.device:
        return self.pixel_mean.device

    def _normalize(self, image: Tensor) -> Tensor:
        return (image.to(self.device).float() - self.pixel_mean) / self.pixel_std

    def _pad(self, tensors: List[Tensor], pad_value: float) -> Tensor:
        return ImageList.from_tensors(tensors, self.size_divisibility, pad_value).tensor

    def forward(self, batched_inputs: List[dict]):
        """
        Args:
            batched_inputs: list of dicts; "image" (3, H_i, W_i) uint8 in INPUT.FORMAT, and in
                training "sparse_seg" (H_i, W_i) int64 (ignore_value where not annotated),
                "valid" (H_i, W_i) bool, and the (K,) float key named by ``absent_from``
                ("sparse_classes" or "image_classes").

        Returns:
            training: dict of scalar losses (loss_sem_seg, and loss_absent, loss_proto,
                loss_gmm when AGMM is enabled, loss_pairwise when the pairwise term is on).
            inference: list of {"sem_seg": (K, height, width) class probabilities}.
        """
        if not self.training:
            return self.inference(batched_inputs)
        view = self.training_view(batched_inputs)
        losses = self.criterion(view.features, view.logits, view.targets, view.valid,
                                view.class_presence, iteration=_training_iteration())
        if self.pairwise is not None:
            # The pairwise kernel compares raw colours (INPUT.FORMAT, 0-255), not normalised ones.
            colours = self._pad([x["image"].to(self.device).float() for x in batched_inputs], 0.0)
            losses = {**losses, **self.pairwise(view.logits, colours, view.valid)}
        return losses

    def training_view(self, batched_inputs: List[dict]) -> "TrainingView":
        """What the loss sees of a batch (dicts as in ``forward``'s training mode): the inputs
        normalised and padded to one size, through the backbone and the head. Gradients flow
        as in training; call it under ``torch.no_grad()`` for inspection."""
        # Batch padding is outside every image: its target is ignored and it is not valid.
        images = self._pad([self._normalize(x["image"]) for x in batched_inputs], 0.0)
        targets = self._pad([x["sparse_seg"].to(self.device) for x in batched_inputs],
                            self.ignore_value)
        valid = self._pad([x["valid"].to(self.device, torch.uint8) for x in batched_inputs], 0)
        class_presence = torch.stack([self._class_presence(x).to(self.device)
                                      for x in batched_inputs])
        features, logits = self.sem_seg_head(self.backbone(images))
        return TrainingView(features, logits, targets, valid.bool(), class_presence)

    def _class_presence(self, x: dict) -> Tensor:
        """(K,) c, the classes the loss takes as present in the image of dict ``x``."""
        if self.absent_from not in x:
            raise ValueError(
                f"{x.get('file_name', 'a training image')}: MODEL.AGMM.ABSENT_FROM is "
                f"{self.absent_from!r} but its mapped dict has no {self.absent_from!r}. Register "
                "the dataset with image-level labels (register_sparse_sem_seg(..., "
                "image_classes=...), or an image_classes.json next to the sparse labels), or set "
                "ABSENT_FROM 'sparse_classes'.")
        return x[self.absent_from]

    def predict_probabilities(self, images: Tensor) -> Tensor:
        """
        Args:
            images: (B, 3, H, W) normalized images of one size.

        Returns:
            (B, K, H, W) class probabilities.
        """
        height, width = images.shape[-2:]
        _, logits = self.sem_seg_head(self.backbone(self._pad(list(images), 0.0)))
        return logits[..., :height, :width].softmax(dim=1)

    def image_probabilities(self, images: Tensor) -> Tensor:
        """Whole-image inference on raw images, without test-time augmentation: what the
        exported model computes (agmm_d2.export).

        Args:
            images: (B, 3, H, W) uint8 or float images in INPUT.FORMAT, of one size.

        Returns:
            (B, K, H, W) class probabilities.
        """
        return self.predict_probabilities(self._normalize(images))

    def inference(self, batched_inputs: List[dict]) -> List[Dict[str, Tensor]]:
        # One image at a time: each is predicted at its own size, without batch padding.
        results = []
        for x in batched_inputs:
            image = self._normalize(x["image"])[None]
            probs = self.test_time(self.predict_probabilities, image)[0]
            height, width = x.get("height", image.shape[-2]), x.get("width", image.shape[-1])
            results.append({"sem_seg": sem_seg_postprocess(probs, image.shape[-2:], height, width)})
        return results


class TrainingView(NamedTuple):
    """A training batch as the loss sees it (B images padded to H x W; C feature channels at
    the decoder's h x w; K classes). The loss's arguments, in its order."""

    features: Tensor  # (B, C, h, w) decoder features
    logits: Tensor  # (B, K, H, W)
    targets: Tensor  # (B, H, W) int64 sparse labels, ignore_value where not annotated or padding
    valid: Tensor  # (B, H, W) bool, False on padding
    class_presence: Tensor  # (B, K) float, the classes the loss takes as present (c)


def _training_iteration() -> Optional[int]:
    """The trainer's current iteration (detectron2's EventStorage), or None outside a trainer."""
    return get_event_storage().iter if has_event_storage() else None
