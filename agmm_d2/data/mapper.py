"""The training mapper: image and sparse label file -> augmented (image, T, V, c).

Evaluation needs no mapper of ours: detectron2's ``DatasetMapper(cfg, False)`` serves it.
"""
import copy
import logging
from typing import List, Optional

import numpy as np
import torch
from detectron2.config import configurable
from detectron2.data import detection_utils as utils
from detectron2.data import transforms as T

from .label_io import check_label_size, check_label_values, present_classes, read_label
from .transforms import (
    RandomBrightnessShift,
    RandomColorJitter,
    RandomCropWithPad,
    RandomGaussianBlur,
    RandomGrayscale,
    RandomLongSideRescale,
)

__all__ = ["SparseSemSegDatasetMapper", "build_sparse_train_augmentation"]


def build_sparse_train_augmentation(cfg) -> List[T.Augmentation]:
    """The released recipe from ``cfg.INPUT``: rescale, crop with padding, flip, colour ops.

    Colour ops expect RGB uint8 images; the mapper applies them before converting to
    ``cfg.INPUT.FORMAT``.
    """
    ignore = cfg.MODEL.SEM_SEG_HEAD.IGNORE_VALUE
    augs = [RandomLongSideRescale(tuple(cfg.INPUT.LONG_SIDE_SCALE_RANGE))]
    if cfg.INPUT.CROP.ENABLED:
        if cfg.INPUT.CROP.TYPE != "absolute":
            raise ValueError(f"INPUT.CROP.TYPE={cfg.INPUT.CROP.TYPE!r}: the sparse-label mapper "
                             "crops a fixed size in pixels; use TYPE 'absolute' with SIZE (h, w)")
        augs.append(RandomCropWithPad(cfg.INPUT.CROP.SIZE, pad_value=0, seg_pad_value=ignore))
    if cfg.INPUT.RANDOM_FLIP != "none":
        augs.append(T.RandomFlip(horizontal=cfg.INPUT.RANDOM_FLIP == "horizontal",
                                 vertical=cfg.INPUT.RANDOM_FLIP == "vertical"))
    color = cfg.INPUT.COLOR_AUG
    if color.ENABLED:
        augs += [
            T.RandomApply(RandomColorJitter(*color.JITTER), prob=color.JITTER_PROB),
            T.RandomApply(RandomGrayscale(), prob=color.GRAYSCALE_PROB),
            T.RandomApply(RandomGaussianBlur(tuple(color.BLUR_SIGMA)), prob=color.BLUR_PROB),
            T.RandomApply(
                RandomBrightnessShift(color.BRIGHTNESS_SHIFT), prob=color.BRIGHTNESS_PROB
            ),
        ]
    return augs


class SparseSemSegDatasetMapper:
    """Map a dataset dict with a sparse label to the tensors the AGMM loss takes.

    Input dict: ``file_name``, ``sparse_seg_file_name`` (falls back to ``sem_seg_file_name``
    for fully supervised training), optionally ``height``/``width`` (checked) and
    ``sparse_unlabeled_value`` (the value marking "not annotated" in that file, set by
    ``register_sparse_sem_seg``; default: the mapper's ``unlabeled_value``), optionally
    ``image_classes`` (the image's complete image-level label: class ids present anywhere in it).

    Output dict:
        image (Tensor): (3, H, W) uint8 in ``image_format``.
        sparse_seg (Tensor): (H, W) int64 T: class ids 0..K-1 where annotated, ``ignore_value``
            on unlabeled pixels and on padding.
        valid (Tensor): (H, W) bool V: False on padding added by the crop.
        sparse_classes (Tensor): (K,) float32: 1 for each class the whole sparse label touches,
            before any augmentation (the released code's c).
        image_classes (Tensor): (K,) float32, only when the dict has ``image_classes``: 1 for
            each class in that list or in the sparse label (a click is evidence of presence).
        height, width, file_name: as in the input dict (original image size).
    """

    @configurable
    def __init__(self, *, augmentations: List, image_format: str,
                 num_classes: int, ignore_value: int = 255, unlabeled_value: int = 255):
        """
        Args:
            augmentations: detectron2 augmentations; photometric ones must accept RGB uint8.
            image_format: "RGB" or "BGR", the channel order of the output image.
            num_classes: K, the number of classes.
            ignore_value: the value of T on unlabeled and padded pixels (255).
            unlabeled_value: "not annotated" in the label files, when a dict does not say.
        """
        if ignore_value > 255 or num_classes > 255:
            raise ValueError("labels are carried as uint8 through the transforms: "
                             f"need num_classes <= 255 and ignore_value <= 255, got "
                             f"{num_classes} and {ignore_value}")
        if image_format not in ("RGB", "BGR"):
            raise ValueError(f"image_format={image_format!r}: expected 'RGB' or 'BGR'")
        self.augmentations = T.AugmentationList(augmentations)
        self.image_format = image_format
        self.num_classes = num_classes
        self.ignore_value = ignore_value
        self.unlabeled_value = unlabeled_value
        logging.getLogger(__name__).info("Sparse-label augmentations: %s", augmentations)

    @classmethod
    def from_config(cls, cfg, is_train: bool = True):
        return {
            # is_train=False gives the labels unaugmented, e.g. to inspect them.
            "augmentations": build_sparse_train_augmentation(cfg) if is_train else [],
            "image_format": cfg.INPUT.FORMAT,
            "num_classes": cfg.MODEL.SEM_SEG_HEAD.NUM_CLASSES,
            "ignore_value": cfg.MODEL.SEM_SEG_HEAD.IGNORE_VALUE,
            "unlabeled_value": cfg.INPUT.SPARSE_UNLABELED_VALUE,
        }

    def _read_sparse(self, dataset_dict: dict, image: np.ndarray) -> np.ndarray:
        """(H, W) uint8 T of the whole image: class ids, ``ignore_value`` where not annotated."""
        path = dataset_dict.get("sparse_seg_file_name") or dataset_dict.get("sem_seg_file_name")
        if path is None:
            raise ValueError(f"{dataset_dict['file_name']}: dataset dict has neither "
                             "sparse_seg_file_name nor sem_seg_file_name")
        label = read_label(path)
        check_label_size(label, image.shape[0], image.shape[1], path, dataset_dict["file_name"])
        unlabeled = dataset_dict.get("sparse_unlabeled_value", self.unlabeled_value)
        check_label_values(label, self.num_classes, {unlabeled, self.ignore_value}, path)
        # uint8 so that ResizeTransform uses PIL's nearest neighbour (it has no int64 path).
        unannotated = (label == unlabeled) | (label == self.ignore_value)
        return np.where(unannotated, self.ignore_value, label).astype(np.uint8)

    def _sparse_classes(self, target: np.ndarray) -> torch.Tensor:
        present = [c for c in present_classes(target, (self.ignore_value,)) if c < self.num_classes]
        labels = torch.zeros(self.num_classes, dtype=torch.float32)
        labels[torch.as_tensor(present, dtype=torch.long)] = 1.0
        return labels

    def _image_classes(self, dataset_dict: dict, sparse_classes: torch.Tensor) -> torch.Tensor:
        """(K,) multi-hot of the dict's complete image-level label, united with the sparse one."""
        ids = torch.as_tensor(list(dataset_dict["image_classes"]), dtype=torch.long)
        if len(ids) and (int(ids.min()) < 0 or int(ids.max()) >= self.num_classes):
            raise ValueError(f"{dataset_dict['file_name']}: image_classes {ids.tolist()} has ids "
                             f"outside 0..{self.num_classes - 1}")
        labels = sparse_classes.clone()
        labels[ids] = 1.0
        return labels

    def __call__(self, dataset_dict: dict) -> Optional[dict]:
        dataset_dict = copy.deepcopy(dataset_dict)
        image = utils.read_image(dataset_dict["file_name"], format="RGB")
        utils.check_image_size(dataset_dict, image)
        target = self._read_sparse(dataset_dict, image)
        sparse_classes = self._sparse_classes(target)  # before any crop: the whole label

        # V is a constant mask moved by the same transforms; padding fills it with ignore_value.
        inside = 1 if self.ignore_value != 1 else 2
        ones = np.full(target.shape, inside, np.uint8)
        aug_input = T.AugInput(image, sem_seg=target)
        transforms = self.augmentations(aug_input)
        image, target = aug_input.image, aug_input.sem_seg
        valid = transforms.apply_segmentation(ones) == inside

        if self.image_format == "BGR":
            image = image[:, :, ::-1]
        dataset_dict["image"] = torch.as_tensor(np.ascontiguousarray(image.transpose(2, 0, 1)))
        # astype copies: without augmentation the label is PIL's read-only buffer.
        dataset_dict["sparse_seg"] = torch.from_numpy(target.astype(np.int64))
        dataset_dict["valid"] = torch.as_tensor(np.ascontiguousarray(valid))
        dataset_dict["sparse_classes"] = sparse_classes
        if "image_classes" in dataset_dict:
            dataset_dict["image_classes"] = self._image_classes(dataset_dict, sparse_classes)
        dataset_dict.setdefault("height", int(ones.shape[0]))
        dataset_dict.setdefault("width", int(ones.shape[1]))
        return dataset_dict
