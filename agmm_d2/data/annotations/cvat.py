"""CVAT for images 1.1: ``annotations.xml`` of a CVAT export.

``<image name width height>`` elements hold the shapes: ``<points>``, ``<polyline>``,
``<polygon>`` (``points="x,y;x,y;..."``), ``<box>`` (``xtl ytl xbr ybr``, ``rotation``),
``<ellipse>`` (``cx cy rx ry``, ``rotation``) and ``<mask>`` (``rle left top width height``).
Attributes are read by name (their order changed across CVAT versions). Shapes are drawn in
``z_order``, then in the file's order.

Coordinate convention: CVAT's canvas is an SVG whose pixel i covers [i, i + 1), with (0, 0)
the image's top-left corner: this package's model (``shapes.py``), so coordinates are taken as
they are. A mask's ``left``, ``top`` are the integer column and row of its box's first pixel,
``width`` x ``height`` its size (CVAT's right = left + width - 1, inclusive), and ``rle`` the
comma-separated run lengths over that box only, row by row (not COCO's column order),
alternating not-set and set pixels and starting with a not-set run (0 when the first pixel is
set).
"""
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import List

import numpy as np

from ...utils.errors import InputError
from .shapes import ImageShapes, Shape, rotate_about

__all__ = ["looks_like_cvat", "read_cvat"]

_KINDS = {"points": "point", "polyline": "line", "polygon": "polygon", "box": "box",
          "ellipse": "ellipse", "mask": "mask"}


def looks_like_cvat(path: Path) -> bool:
    """An XML file whose root is ``<annotations>``."""
    if not path.is_file():
        return False
    with open(path, "rb") as f:
        head = f.read(512).lstrip()
    return head.startswith(b"<") and b"<annotations" in head


def read_cvat(export) -> List[ImageShapes]:
    """The shapes of every ``<image>`` of a CVAT for images 1.1 XML file."""
    export = Path(export)
    try:
        root = ET.parse(export).getroot()
    except (OSError, ET.ParseError) as e:
        raise InputError(f"{export}: not a readable XML file ({e})") from None
    if root.tag != "annotations":
        raise InputError(f"{export}: root element <{root.tag}>; expected <annotations> of a "
                         "'CVAT for images 1.1' export")
    if root.find("track") is not None:
        raise InputError(f"{export}: holds <track> elements (a 'CVAT for video' export); "
                         "export the task as 'CVAT for images 1.1'")
    return [_image(export, element) for element in root.iter("image")]


def _image(export: Path, element) -> ImageShapes:
    name = element.get("name")
    try:
        width, height = int(element.get("width")), int(element.get("height"))
    except (TypeError, ValueError):
        raise InputError(f"{export}: <image name={name!r}> lacks an integer width and "
                         "height") from None
    image = ImageShapes(image=name, width=width, height=height, shapes=[], source=str(export))
    ordered = []
    for index, child in enumerate(element):
        where = f"shape {index} (<{child.tag}> {child.get('label')!r})"
        if child.tag not in _KINDS:
            image.notes.append(f"{export}: image {name}: {where} skipped: <{child.tag}> is not "
                               f"a shape kind this importer reads ({sorted(_KINDS)})")
            continue
        ordered.append((_number(export, name, where, child, "z_order", 0), index,
                        _shape(export, name, where, child)))
    image.shapes = [shape for _, _, shape in sorted(ordered, key=lambda t: t[:2])]
    return image


def _number(export, name, where, element, key, default=None) -> float:
    value = element.get(key)
    if value is None and default is not None:
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InputError(f"{export}: image {name}: {where}: attribute {key}={value!r}; "
                         "expected a number") from None


def _shape(export, name, where, element) -> Shape:
    kind = _KINDS[element.tag]
    shape = Shape(label=element.get("label", ""), kind=kind, where=where)
    num = lambda key, default=None: _number(export, name, where, element, key, default)  # noqa: E731
    if kind in ("point", "line", "polygon"):
        try:
            shape.points = np.array([[float(v) for v in pair.split(",")]
                                     for pair in element.get("points", "").split(";")])
            shape.points = shape.points.reshape(-1, 2)
        except ValueError:
            raise InputError(f"{export}: image {name}: {where}: points="
                             f"{element.get('points')!r}; expected 'x,y;x,y;...'") from None
    elif kind == "box":
        x0, y0, x1, y1 = num("xtl"), num("ytl"), num("xbr"), num("ybr")
        corners = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
        shape.points = rotate_about(corners, (x0 + x1) / 2, (y0 + y1) / 2, num("rotation", 0.0))
    elif kind == "ellipse":
        shape.ellipse = (num("cx"), num("cy"), num("rx"), num("ry"), num("rotation", 0.0))
    else:
        shape.mask, shape.offset = _mask(export, name, where, element, num)
    return shape


def _mask(export, name, where, element, num):
    left, top, width, height = (int(num(k)) for k in ("left", "top", "width", "height"))
    try:
        runs = [int(v) for v in element.get("rle", "").split(",")]
    except ValueError:
        raise InputError(f"{export}: image {name}: {where}: rle is not comma-separated "
                         "integers") from None
    if sum(runs) != width * height or min(runs, default=0) < 0:
        raise InputError(f"{export}: image {name}: {where}: rle covers {sum(runs)} pixels but "
                         f"its box is {width}x{height} = {width * height}")
    values = np.arange(len(runs)) % 2 * 255  # runs alternate not-set (first) and set
    crop = np.repeat(values.astype(np.uint8), runs).reshape(height, width)
    return crop, (left, top)
