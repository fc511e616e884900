"""Panels that show what the model sees: image, sparse labels, dense labels, prediction, and the
Gaussian-mixture response R that AGMM supervises the unlabeled pixels with."""
from typing import List, Sequence

import cv2
import numpy as np
import torch
from detectron2.data import MetadataCatalog
from detectron2.utils.visualizer import Visualizer

from ..data.label_io import present_classes, read_label
from ..data.mapper import SparseSemSegDatasetMapper

__all__ = ["PanelMaker"]

TILE_TITLE_HEIGHT = 18
# At most this many response tiles when the classes are not chosen.
DEFAULT_RESPONSE_TILES = 3


def _titled(tile: np.ndarray, title: str) -> np.ndarray:
    """(H, W, 3) RGB tile with a white title strip above it."""
    strip = np.full((TILE_TITLE_HEIGHT, tile.shape[1], 3), 255, np.uint8)
    cv2.putText(strip, title[: max(tile.shape[1] // 7, 4)], (2, TILE_TITLE_HEIGHT - 5),
                cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([strip, tile], 0)


def _draw_labels(image: np.ndarray, labels: np.ndarray, metadata) -> np.ndarray:
    """Label map (H, W) drawn over the image with the dataset's colours (255: not drawn)."""
    vis = Visualizer(image, metadata, scale=1.0)
    return vis.draw_sem_seg(labels, alpha=0.6).get_image()


def _heat(image: np.ndarray, response: np.ndarray) -> np.ndarray:
    """A response map in [0, 1], (H, W), as a JET heat map blended over the image."""
    colored = cv2.applyColorMap((response.clip(0, 1) * 255).astype(np.uint8), cv2.COLORMAP_JET)
    return (0.4 * image + 0.6 * colored[..., ::-1]).astype(np.uint8)


class PanelMaker:
    """Builds the panel of a dataset dict with a model: one row of tiles of the image's size.

    Args:
        cfg: the (machine-adapted) config of the model.
        model: the trained AGMMSemanticSegmentor, in eval mode.
        dataset: the registered dataset whose classes and colours are drawn.
        classes: names of the classes whose response R to draw (empty: the classes of each
            image's sparse label, at most 3).
    """

    def __init__(self, cfg, model, dataset: str, classes: Sequence[str] = ()):
        self.cfg = cfg
        self.metadata = MetadataCatalog.get(dataset)
        self.class_names = list(self.metadata.stuff_classes)
        unknown = [c for c in classes if c not in self.class_names]
        if unknown:
            raise ValueError(f"classes {unknown}: not classes of {dataset} {self.class_names}")
        self.classes = [self.class_names.index(c) for c in classes]
        self.model = model
        # is_train=False: the sparse label as annotated, without augmentation.
        self.mapper = SparseSemSegDatasetMapper(cfg, is_train=False)

    @torch.no_grad()
    def __call__(self, record: dict) -> np.ndarray:
        """(H', W', 3) uint8 RGB panel of the dataset dict ``record``."""
        x = self.mapper(record)
        model = self.model
        # The mapper gives INPUT.FORMAT; the Visualizer wants RGB.
        image = x["image"].permute(1, 2, 0).numpy()
        rgb = image[..., ::-1] if self.cfg.INPUT.FORMAT == "BGR" else image
        height, width = rgb.shape[:2]
        # Without image-level labels, R is drawn for the classes of the sparse label.
        x.setdefault(model.absent_from, x["sparse_classes"])
        response = model.criterion.response(*model.training_view([x]))[0, :, :height, :width]
        prediction = model([{"image": x["image"], "height": height, "width": width}])[0]
        sparse = x["sparse_seg"].numpy()

        tiles = [_titled(rgb, "image"), _titled(_draw_labels(rgb, sparse, self.metadata), "sparse")]
        if "sem_seg_file_name" in record:
            tiles.append(_titled(_draw_labels(rgb, read_label(record["sem_seg_file_name"]),
                                              self.metadata), "dense"))
        pred = prediction["sem_seg"].argmax(0).cpu().numpy()
        tiles.append(_titled(_draw_labels(rgb, pred, self.metadata), "prediction"))
        classes = self.classes or present_classes(sparse, (model.ignore_value,))
        for k in classes[: len(self.classes) or DEFAULT_RESPONSE_TILES]:
            tiles.append(_titled(_heat(rgb, response[k].cpu().numpy()), f"R {self.class_names[k]}"))
        gap = np.full((tiles[0].shape[0], 4, 3), 255, np.uint8)
        row = [t for tile in tiles for t in (tile, gap)][:-1]
        return np.concatenate(row, 1)

    def panels(self, records: List[dict]) -> List[np.ndarray]:
        """The panel of each dict."""
        return [self(r) for r in records]
