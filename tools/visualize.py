#!/usr/bin/env python
"""Look at what the model sees: image, sparse labels, dense labels, prediction, and the
Gaussian-mixture response that AGMM supervises the unlabeled pixels with.

    python tools/visualize.py --config-file configs/synthetic_demo.yaml \
        --dataset synthetic_point_train --num 4 --output vis/ \
        MODEL.WEIGHTS output/synthetic_demo/model_final.pth

Writes one PNG panel per image, ``<output>/<image_id>.png``: a row of tiles of the image's own
size. Label maps are drawn with detectron2's ``Visualizer`` in the dataset's ``stuff_colors``;
each response tile shows R for one class (``--classes``; default: the classes of the image's
sparse label, at most 3) as a heat map over the image.
"""
import argparse
import os
import sys
from pathlib import Path
from typing import List

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from detectron2.checkpoint import DetectionCheckpointer  # noqa: E402
from detectron2.data import DatasetCatalog, MetadataCatalog  # noqa: E402
from detectron2.modeling import build_model  # noqa: E402
from detectron2.utils.visualizer import Visualizer  # noqa: E402

from agmm_d2.data import SparseSemSegDatasetMapper  # noqa: E402
from agmm_d2.data.label_io import read_label  # noqa: E402
from agmm_d2.modeling.agmm_loss import gmm_response  # noqa: E402
from predict import save_png  # noqa: E402
from train_net import InputError, build_config, exit_status_of  # noqa: E402

TILE_TITLE_HEIGHT = 18


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
    """Builds the panel of one dataset dict with a trained model."""

    def __init__(self, cfg, dataset: str, classes: List[str]):
        self.cfg = cfg
        self.metadata = MetadataCatalog.get(dataset)
        self.class_names = list(self.metadata.stuff_classes)
        unknown = [c for c in classes if c not in self.class_names]
        if unknown:
            raise InputError(f"--classes {unknown}: not classes of {dataset} {self.class_names}")
        self.classes = [self.class_names.index(c) for c in classes]
        self.model = build_model(cfg).eval()
        DetectionCheckpointer(self.model).load(cfg.MODEL.WEIGHTS)
        # is_train=False: the sparse label as annotated, without augmentation.
        self.mapper = SparseSemSegDatasetMapper(cfg, is_train=False)

    @torch.no_grad()
    def __call__(self, record: dict) -> np.ndarray:
        x = self.mapper(record)
        model = self.model
        # The mapper gives INPUT.FORMAT; the Visualizer wants RGB.
        image = x["image"].permute(1, 2, 0).numpy()
        rgb = image[..., ::-1] if self.cfg.INPUT.FORMAT == "BGR" else image
        height, width = rgb.shape[:2]
        images = model._pad([model._normalize(x["image"])], 0.0)
        targets = model._pad([x["sparse_seg"].to(model.device)], model.ignore_value)
        valid = model._pad([x["valid"].to(model.device, torch.uint8)], 0).bool()
        features, logits = model.sem_seg_head(model.backbone(images))
        agmm = self.cfg.MODEL.AGMM
        response = gmm_response(features, logits, targets, valid, x["image_labels"][None],
                                ignore_value=model.ignore_value, variance=agmm.VARIANCE,
                                feature_norm=agmm.FEATURE_NORM)[0, :, :height, :width]
        prediction = model([{"image": x["image"], "height": height, "width": width}])[0]
        sparse = x["sparse_seg"].numpy()

        tiles = [_titled(rgb, "image"), _titled(_draw_labels(rgb, sparse, self.metadata), "sparse")]
        if "sem_seg_file_name" in record:
            tiles.append(_titled(_draw_labels(rgb, read_label(record["sem_seg_file_name"]),
                                              self.metadata), "dense"))
        pred = prediction["sem_seg"].argmax(0).cpu().numpy()
        tiles.append(_titled(_draw_labels(rgb, pred, self.metadata), "prediction"))
        classes = self.classes or [int(k) for k in np.unique(sparse[sparse != model.ignore_value])][:3]
        for k in classes:
            tiles.append(_titled(_heat(rgb, response[k].cpu().numpy()), f"R {self.class_names[k]}"))
        gap = np.full((tiles[0].shape[0], 4, 3), 255, np.uint8)
        row = [t for tile in tiles for t in (tile, gap)][:-1]
        return np.concatenate(row, 1)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config-file", required=True, metavar="FILE")
    parser.add_argument("--dataset", default=None,
                        help="registered dataset with sparse labels (default: DATASETS.TRAIN[0])")
    parser.add_argument("--num", type=int, default=4, help="number of images (from the start)")
    parser.add_argument("--indices", type=int, nargs="*", default=None,
                        help="indices of the images in the dataset (overrides --num)")
    parser.add_argument("--classes", default="",
                        help="comma-separated class names whose response to draw")
    parser.add_argument("--output", required=True, help="folder for the PNG panels")
    parser.add_argument("opts", nargs=argparse.REMAINDER, default=[],
                        help="config overrides, e.g. MODEL.WEIGHTS path/model_final.pth")
    return parser.parse_args(argv)


def run(args) -> int:
    cfg, _ = build_config(args)
    weights = cfg.MODEL.WEIGHTS
    if not weights or ("://" not in weights and not os.path.isfile(weights)):
        raise InputError(f"MODEL.WEIGHTS {weights!r}: no such file; give a trained model")
    dataset = args.dataset or cfg.DATASETS.TRAIN[0]
    if dataset not in DatasetCatalog.list():
        raise InputError(f"--dataset {dataset!r} is not registered")
    records = DatasetCatalog.get(dataset)
    indices = args.indices if args.indices else range(min(args.num, len(records)))
    classes = [c.strip() for c in args.classes.split(",") if c.strip()]
    make_panel = PanelMaker(cfg, dataset, classes)
    out = Path(args.output)
    for i in indices:
        if not 0 <= i < len(records):
            raise InputError(f"--indices {i}: {dataset} has {len(records)} images")
        panel = make_panel(records[i])
        name = str(records[i].get("image_id", i)).replace(os.sep, "_")
        save_png(panel, out / f"{name}.png")
        print(f"visualize.py: wrote {out / f'{name}.png'}")
    return 0


def main(argv=None) -> int:
    return exit_status_of("visualize.py", run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
