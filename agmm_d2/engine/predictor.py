"""Predicting folders of images: batched inference, collision-free output names, atomic writes."""
import glob
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, List, Tuple

import numpy as np
import torch
from detectron2.data import MetadataCatalog
from detectron2.data import transforms as T
from detectron2.modeling import build_model
from PIL import Image

from ..utils.atomic import atomic_write
from .checkpoint import load_weights
from .errors import InputError

__all__ = ["BatchPredictor", "PredictionReport", "class_palette", "find_images", "output_names",
           "save_png"]


def find_images(inputs: Iterable[str]) -> List[Tuple[Path, Path]]:
    """(file, path relative to its input) for every file named by ``inputs``: folders (searched
    recursively), files, or globs. Raises InputError for an input that names nothing."""
    found = []
    for spec in inputs:
        path = Path(spec)
        if path.is_dir():
            files = [(p, p.relative_to(path)) for p in sorted(path.rglob("*")) if p.is_file()]
            if not files:
                raise InputError(f"--input {spec!r}: the folder holds no file")
            found += files
        elif path.is_file():
            found.append((path, Path(path.name)))
        else:
            matches = [Path(p) for p in sorted(glob.glob(spec, recursive=True))]
            matches = [p for p in matches if p.is_file()]
            if not matches:
                raise InputError(f"--input {spec!r}: no such file, folder or matching glob")
            found += [(p, Path(p.name)) for p in matches]
    return found


def output_names(files: List[Tuple[Path, Path]]) -> List[Path]:
    """The output name (``<rel>.png``) of each input; inputs that share a stem keep their
    extension (``x.jpg.png``, ``x.png.png``). Two inputs with the same relative name (from two
    ``--input`` folders) are refused with both paths, as is a file given twice."""
    plain = [rel.with_suffix(".png") for _, rel in files]
    counts = {}
    for name in plain:
        counts[name] = counts.get(name, 0) + 1
    names = [rel.with_name(rel.name + ".png") if counts[p] > 1 else p
             for (_, rel), p in zip(files, plain)]
    first = {}
    for (path, _), name in zip(files, names):
        if name in first:
            raise InputError(f"{first[name]} and {path} would both be written as {name}; "
                             "give them separately, or rename one")
        first[name] = path
    return names


def save_png(array: np.ndarray, path: Path) -> None:
    """Write an (H, W) or (H, W, 3) uint8 array as a PNG, atomically."""
    with atomic_write(path) as tmp:
        Image.fromarray(array).save(tmp)


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


@dataclass
class PredictionReport:
    """What ``predict_folder`` did: the files written, and the inputs skipped with the reason."""

    written: List[Path] = field(default_factory=list)
    skipped: List[Tuple[Path, str]] = field(default_factory=list)
