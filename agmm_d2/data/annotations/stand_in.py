"""A stand-in for "my photos and my LabelMe clicks", for the walkthrough and the tests.

No real photos ship with the project. This writes synthetic images
(``agmm_d2.data.synthetic``)
as plain PNG files and, beside each, the LabelMe JSON file an annotator would have saved after
clicking a few points and drawing a scribble in it. The dense label of each image exists only
in memory, to know which class a click falls on; nothing dense is written.
"""
import json
from pathlib import Path
from typing import List

import numpy as np
from PIL import Image

from ..synthetic.generator import CLASSES, make_sample

__all__ = ["write_demo_labelme_export"]


def _clicks(dense: np.ndarray, rng: np.random.Generator, count: int) -> List[dict]:
    rows, cols = np.nonzero(np.ones_like(dense, bool))
    chosen = rng.choice(len(rows), size=count, replace=False)
    return [{"label": CLASSES[dense[rows[i], cols[i]]], "shape_type": "point",
             "points": [[cols[i] + 0.5, rows[i] + 0.5]], "group_id": None, "flags": {}}
            for i in chosen]


def _scribble(dense: np.ndarray, rng: np.random.Generator) -> List[dict]:
    """A short horizontal stroke inside the image's largest class region, along one row."""
    largest = int(np.argmax(np.bincount(dense.ravel())))
    rows = [r for r in range(dense.shape[0]) if (dense[r] == largest).sum() >= 8]
    if not rows:
        return []
    row = int(rng.choice(rows))
    cols = np.flatnonzero(dense[row] == largest)
    start = int(cols[0])
    end = start
    while end + 1 < dense.shape[1] and dense[row, end + 1] == largest and end - start < 20:
        end += 1
    if end - start < 4:
        return []
    return [{"label": CLASSES[largest], "shape_type": "linestrip", "group_id": None, "flags": {},
             "points": [[start + 2.5, row + 0.5], [end - 1.5, row + 0.5]]}]


def write_demo_labelme_export(folder, *, images: int = 40, size: int = 96, clicks: int = 20,
                              seed: int = 0) -> Path:
    """Write ``<folder>/photo_NNN.png`` and ``photo_NNN.json`` (LabelMe 5 files with
    ``clicks`` points and one scribble each); returns ``folder``. The class names are
    ``agmm_d2.data.synthetic.CLASSES``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(images):
        image, dense = make_sample(seed * 10_000_019 + 2_000_000 + i, size)
        rng = np.random.default_rng([seed, i])
        name = f"photo_{i:03d}"
        Image.fromarray(image).save(folder / f"{name}.png")
        shapes = _clicks(dense, rng, clicks) + _scribble(dense, rng)
        (folder / f"{name}.json").write_text(json.dumps({
            "version": "5.7.0", "flags": {}, "shapes": shapes, "imagePath": f"{name}.png",
            "imageData": None, "imageHeight": size, "imageWidth": size}, indent=1))
    return folder
