"""Predicting folders of images: batched inference, collision-free output names, atomic writes."""
from typing import List

import numpy as np
import torch
from detectron2.data import MetadataCatalog
from detectron2.data import transforms as T
from detectron2.modeling import build_model

from ..engine.checkpoint import load_weights
from ..utils.errors import InputError
from .files import PredictionReport, find_images, output_names, save_png

__all__ = ["BatchPredictor", "PredictionReport", "class_palette", "find_images", "output_names",
           "save_png"]


def class_palette(cfg) -> np.ndarray:
    """(256, 3) uint8 palette: the ``stuff_colors`` of the config's first dataset (DATASETS.TEST,
    then DATASETS.TRAIN) that has one for each of its NUM_CLASSES classes, black elsewhere.

    Raises InputError when none has: the colour masks would be black, or black in part."""
    num_classes = cfg.MODEL.SEM_SEG_HEAD.NUM_CLASSES
    names = tuple(cfg.DATASETS.TEST) + tuple(cfg.DATASETS.TRAIN)
    for name in names:
        colors = MetadataCatalog.get(name).get("stuff_colors") if name in MetadataCatalog else None
        if colors and len(colors) >= num_classes:
            palette = np.zeros((256, 3), np.uint8)
            palette[: len(colors)] = np.asarray(colors, np.uint8)
            return palette
    raise InputError(
        f"DATASETS.TEST/TRAIN {list(names)}: none is registered with stuff_colors for the "
        f"{num_classes} classes, so the colour masks would be black; register your datasets "
        "with --register FILE.py|MODULE (register=[...] in Python) or name a dataset that has them")


class BatchPredictor:
    """Batched inference as detectron2's DefaultPredictor, for many images at once."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.model = load_weights(build_model(cfg).eval(), cfg.MODEL.WEIGHTS)
        size = cfg.INPUT.MIN_SIZE_TEST
        self.resize = T.ResizeShortestEdge([size, size], cfg.INPUT.MAX_SIZE_TEST) if size else None

    @torch.no_grad()
    def __call__(self, images: List[np.ndarray]) -> List[np.ndarray]:
        """images: (H, W, 3) uint8 arrays in INPUT.FORMAT -> (H, W) uint8 class ids each."""
        batch = []
        for image in images:
            height, width = image.shape[:2]
            if self.resize is not None:
                image = self.resize.get_transform(image).apply_image(image)
            tensor = torch.as_tensor(np.ascontiguousarray(image.transpose(2, 0, 1)))
            batch.append({"image": tensor, "height": height, "width": width})
        outputs = self.model(batch)
        return [o["sem_seg"].argmax(0).to("cpu", torch.uint8).numpy() for o in outputs]
