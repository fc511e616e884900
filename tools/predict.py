#!/usr/bin/env python
"""Segment your own images with a trained model; write class-id PNGs and colour masks.

    python tools/predict.py --config-file configs/synthetic_demo.yaml \
        --input "photos/*.jpg" --output predictions/ MODEL.WEIGHTS output/synthetic_demo/model_final.pth

``--input`` is a folder (searched recursively), a glob, or a file, and may be repeated. For each
image ``<rel>.<ext>`` it writes ``<output>/ids/<rel>.png`` (single-channel class ids 0..K-1) and
``<output>/color/<rel>.png`` (the classes in the dataset's ``stuff_colors``). A file that is
not a readable image is reported and skipped; the exit status is then 1.
"""
import argparse
import glob
import os
import sys
import tempfile
from pathlib import Path
from typing import List, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from detectron2.checkpoint import DetectionCheckpointer  # noqa: E402
from detectron2.data import MetadataCatalog  # noqa: E402
from detectron2.data import transforms as T  # noqa: E402
from detectron2.data.detection_utils import read_image  # noqa: E402
from detectron2.modeling import build_model  # noqa: E402
from PIL import Image  # noqa: E402
from tqdm import tqdm  # noqa: E402

from train_net import InputError, build_config, exit_status_of  # noqa: E402


def find_images(inputs: List[str]) -> List[Tuple[Path, Path]]:
    """(file, path relative to its input) for every file named by the inputs, sorted."""
    found = []
    for spec in inputs:
        path = Path(spec)
        if path.is_dir():
            found += [(p, p.relative_to(path)) for p in sorted(path.rglob("*")) if p.is_file()]
        elif path.is_file():
            found.append((path, Path(path.name)))
        else:
            matches = sorted(Path(p) for p in glob.glob(spec, recursive=True))
            if not matches:
                raise InputError(f"--input {spec!r}: no such file, folder or matching glob")
            found += [(p, Path(p.name)) for p in matches if p.is_file()]
    return found


def save_png(array: np.ndarray, path: Path) -> None:
    """Write a PNG through a temporary name, so no half-written file is left behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".png", dir=path.parent)
    os.close(fd)
    try:
        Image.fromarray(array).save(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


class Predictor:
    """Batched inference as detectron2's DefaultPredictor, for many images at once."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.model = build_model(cfg).eval()
        DetectionCheckpointer(self.model).load(cfg.MODEL.WEIGHTS)
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


def class_colors(cfg) -> np.ndarray:
    """(256, 3) uint8 palette: the colours of the config's dataset, black elsewhere."""
    palette = np.zeros((256, 3), np.uint8)
    for name in tuple(cfg.DATASETS.TEST) + tuple(cfg.DATASETS.TRAIN):
        colors = MetadataCatalog.get(name).get("stuff_colors")
        if colors:
            palette[: len(colors)] = np.asarray(colors, np.uint8)
            break
    return palette


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config-file", required=True, metavar="FILE")
    parser.add_argument("--input", required=True, action="append",
                        help="image file, folder or glob (repeatable)")
    parser.add_argument("--output", required=True, help="folder for ids/ and color/")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="images per forward pass (default: 8 on a GPU, 1 on the CPU)")
    parser.add_argument("opts", nargs=argparse.REMAINDER, default=[],
                        help="config overrides, e.g. MODEL.WEIGHTS path/model_final.pth")
    return parser.parse_args(argv)


def run(args) -> int:
    cfg, notes = build_config(args)
    for note in notes:
        print(f"predict.py: {note}", file=sys.stderr)
    weights = cfg.MODEL.WEIGHTS
    if not weights:
        raise InputError("MODEL.WEIGHTS is empty: give the trained model, e.g. "
                         "MODEL.WEIGHTS output/synthetic_demo/model_final.pth")
    if "://" not in weights and not os.path.isfile(weights):
        raise InputError(f"MODEL.WEIGHTS {weights!r}: no such file")
    files = find_images(args.input)
    if not files:
        raise InputError(f"--input {args.input}: no files found")
    predictor = Predictor(cfg)
    palette = class_colors(cfg)
    batch_size = args.batch_size or (8 if cfg.MODEL.DEVICE.startswith("cuda") else 1)
    out = Path(args.output)
    failed = 0
    with tqdm(total=len(files), unit="img", desc="predict") as progress:
        for start in range(0, len(files), batch_size):
            chunk, images = [], []
            for path, rel in files[start:start + batch_size]:
                try:
                    images.append(read_image(str(path), format=cfg.INPUT.FORMAT))
                    chunk.append(rel)
                except Exception as e:  # PIL raises several types for non-images
                    failed += 1
                    tqdm.write(f"predict.py: skipping {path}: not a readable image ({e})",
                               file=sys.stderr)
            for rel, ids in zip(chunk, predictor(images) if images else []):
                save_png(ids, out / "ids" / rel.with_suffix(".png"))
                save_png(palette[ids], out / "color" / rel.with_suffix(".png"))
            progress.update(len(files[start:start + batch_size]))
    print(f"predict.py: wrote {len(files) - failed} predictions to {out}"
          + (f"; skipped {failed} unreadable files" if failed else ""))
    return 1 if failed else 0


def main(argv=None) -> int:
    return exit_status_of("predict.py", run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
