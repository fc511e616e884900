"""Render the "What's the point" VOC clicks (JSON) into point label PNGs.

Each click becomes a disk of its class (radius 1 by default: 3 px across, as in the commonly
used point PNGs) in a single-channel PNG of its image's size, 255 elsewhere. Background clicks
come from the second JSON (class 0) and are drawn first, so object clicks win where they overlap.

The command: ``datasets_prep/voc_points.py`` (``agmm_d2.cli.voc_points``).
"""
import json
import logging
from pathlib import Path
from typing import Dict, Iterable, List, Optional

import numpy as np

from agmm_d2.utils.atomic import atomic_write

from ..sparse_labels.label_folders import image_size, write_label_png

logger = logging.getLogger(__name__)
UNLABELED = 255


def click_pixels(clicks: Iterable[dict], height: int, width: int):
    """(ys, xs, classes) int arrays of the clicks inside an image of that size.

    JSON coordinates are continuous, 0-based: pixel = floor(coordinate). A click on the far
    border (x == width) is kept on the last pixel; clicks farther out are dropped.
    """
    ys, xs, cls = [], [], []
    for c in clicks:
        x, y = float(c["x"]), float(c["y"])
        if not (0 <= x <= width and 0 <= y <= height):
            continue
        xs.append(min(int(x), width - 1))
        ys.append(min(int(y), height - 1))
        cls.append(int(c["cls"]))
    return np.array(ys, int), np.array(xs, int), np.array(cls, int)


def disk_offsets(radius: int) -> np.ndarray:
    """(M, 2) (dy, dx) offsets of the pixels within ``radius`` of a centre pixel."""
    r = int(radius)
    dy, dx = np.mgrid[-r:r + 1, -r:r + 1]
    keep = dy ** 2 + dx ** 2 <= r ** 2
    return np.stack([dy[keep], dx[keep]], 1)


def draw_disks(label: np.ndarray, ys, xs, classes, radius: int) -> np.ndarray:
    """Stamp a disk of ``classes[i]`` at (ys[i], xs[i]) into ``label`` (in place, in order)."""
    h, w = label.shape
    offsets = disk_offsets(radius)
    for y, x, c in zip(ys, xs, classes):
        py, px = y + offsets[:, 0], x + offsets[:, 1]
        inside = (py >= 0) & (py < h) & (px >= 0) & (px < w)
        label[py[inside], px[inside]] = c
    return label


def render_label(object_clicks: List[dict], background_clicks: List[dict], height: int,
                 width: int, radius: int = 1) -> np.ndarray:
    """(height, width) uint8 point label: disks of the clicks' classes, 255 elsewhere."""
    label = np.full((height, width), UNLABELED, np.uint8)
    for clicks in (background_clicks, object_clicks):
        draw_disks(label, *click_pixels(clicks, height, width), radius)
    return label


def render_points(points_json, out_dir, image_dir, background_json=None, *, radius: int = 1,
                  ids: Optional[Iterable[str]] = None, image_ext: str = ".jpg",
                  overwrite: bool = False) -> Dict[str, int]:
    """Write ``<out_dir>/<id>.png`` for every image id of the JSON (or of ``ids``).

    Image sizes are read from ``<image_dir>/<id><image_ext>``; ids without an image are skipped.
    The folder appears at once when complete. Returns counts: written, missing_image,
    clicks_dropped (outside their image).
    """
    if radius < 0:
        raise ValueError(f"--radius {radius}: expected 0 or more")
    points = json.loads(Path(points_json).read_text())
    background = json.loads(Path(background_json).read_text()) if background_json else {}
    keys = sorted(points) if ids is None else list(ids)
    if not keys:
        raise ValueError(f"{points_json}: holds no image id with clicks")
    stats = {"written": 0, "missing_image": 0, "clicks_dropped": 0}
    with atomic_write(out_dir, folder=True, overwrite=overwrite) as tmp:
        for key in keys:
            image = Path(image_dir) / f"{key}{image_ext}"
            if not image.is_file():
                stats["missing_image"] += 1
                continue
            h, w = image_size(image)
            obj, bg = points.get(key, []), background.get(key, [])
            kept = len(click_pixels(obj, h, w)[0]) + len(click_pixels(bg, h, w)[0])
            stats["clicks_dropped"] += len(obj) + len(bg) - kept
            write_label_png(tmp / f"{key}.png", render_label(obj, bg, h, w, radius), palette=True)
            stats["written"] += 1
        if not stats["written"]:
            raise FileNotFoundError(f"{image_dir}: none of the {len(keys)} image ids of "
                                    f"{points_json} has an image ({image_ext}); nothing written")
    if stats["missing_image"]:
        logger.warning(
            "%d image ids have no %s under %s", stats["missing_image"], image_ext, image_dir
        )
    return stats
