"""Render the ScribbleSup VOC scribbles (one XML per image) into scribble label PNGs.

ScribbleSup XML: an <annotation> with <filename>, <size><width>/<height>, and one <polygon> per
scribble holding <tag>class name</tag> and its <point><X>..</X><Y>..</Y></point> in drawing
order. Each scribble becomes a polyline of its class, 3 px wide, 255 elsewhere; "background"
is class 0.

The command: ``datasets_prep/voc_scribbles.py`` (``agmm_d2.cli.voc_scribbles``).
"""
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np

from agmm_d2.data.datasets.voc import VOC_CLASSES
from agmm_d2.utils.atomic import atomic_write

from ..sparse_labels.label_folders import image_size, write_label_png

UNLABELED = 255


def _normalise(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.lower())


# Tags as written in ScribbleSup ("tv/monitor", "potted plant", ...) -> VOC class id.
_CLASS_IDS = {_normalise(n): i for i, n in enumerate(VOC_CLASSES)}
_CLASS_IDS.update({"tv": 20, "monitor": 20, "motorcycle": 14, "plant": 16, "airplane": 1,
                   "table": 11, "diningtable": 11, "bg": 0})


def class_id(tag: str, path="") -> int:
    """VOC class id of a ScribbleSup tag; ValueError naming the file for an unknown name."""
    key = _normalise(tag)
    if key not in _CLASS_IDS:
        raise ValueError(
            f"{path}: unknown class name {tag!r} in a <tag>; expected one of {VOC_CLASSES}"
        )
    return _CLASS_IDS[key]


def parse_scribble_xml(path) -> Tuple[Optional[Tuple[int, int]], List[Tuple[int, np.ndarray]]]:
    """Read one ScribbleSup XML file.

    Returns:
        size: (height, width) from <size>, or None when absent.
        scribbles: [(class id, (N, 2) int array of (x, y) points)] in file order.
    """
    root = ET.parse(path).getroot()
    size = None
    h, w = root.findtext("size/height"), root.findtext("size/width")
    if h is not None and w is not None:
        size = (int(float(h)), int(float(w)))
    scribbles = []
    for polygon in root.iter("polygon"):
        tag = polygon.findtext("tag")
        if tag is None:
            raise ValueError(f"{path}: a <polygon> has no <tag> (class name)")
        points = [(float(p.findtext("X")), float(p.findtext("Y"))) for p in polygon.iter("point")]
        if points:
            scribbles.append((class_id(tag, path), np.round(points).astype(np.int32)))
    return size, scribbles


def cv2_thickness(line_width: int) -> int:
    """OpenCV's ``thickness`` that draws lines ``line_width`` px wide (odd widths are exact).

    OpenCV draws ``2 * (thickness // 2) + 1`` pixels across: thickness 3 would give 5 px.
    """
    return max(1, int(line_width) - 1)


def render_scribble_label(scribbles, height: int, width: int, thickness: int = 3) -> np.ndarray:
    """(height, width) uint8 label: each scribble a polyline of its class, 255 elsewhere.

    ``thickness`` is the line width in pixels. Background scribbles are drawn first, so object
    scribbles win where they cross.
    """
    label = np.full((height, width), UNLABELED, np.uint8)
    for cls, pts in sorted(scribbles, key=lambda s: s[0] != 0):
        cv2.polylines(label, [pts.reshape(-1, 1, 2)], isClosed=False, color=int(cls),
                      thickness=cv2_thickness(thickness))
    return label


def render_scribbles(xml_dir, out_dir, image_dir=None, *, thickness: int = 3,
                     image_ext: str = ".jpg", overwrite: bool = False) -> Dict[str, int]:
    """Write ``<out_dir>/<id>.png`` for every ``<xml_dir>/<id>.xml``.

    The size comes from ``<image_dir>/<id><image_ext>`` when ``image_dir`` is given (the JPEG
    is the truth), else from the XML's <size>. Returns counts: written, no_size.
    """
    stats = {"written": 0, "no_size": 0}
    if thickness < 1:
        raise ValueError(f"--thickness {thickness}: expected 1 or more pixels")
    xmls = sorted(Path(xml_dir).glob("*.xml"))
    if not xmls:
        raise FileNotFoundError(f"{xml_dir}: no *.xml scribble file")
    with atomic_write(out_dir, folder=True, overwrite=overwrite) as tmp:
        for xml in xmls:
            size, scribbles = parse_scribble_xml(xml)
            image = Path(image_dir) / f"{xml.stem}{image_ext}" if image_dir is not None else None
            if image is not None and image.is_file():
                size = image_size(image)
            if size is None:
                stats["no_size"] += 1
                continue
            write_label_png(
                tmp / f"{xml.stem}.png",
                render_scribble_label(scribbles, *size, thickness),
                palette=True,
            )
            stats["written"] += 1
    return stats
