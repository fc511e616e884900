"""LabelMe: a folder of per-image JSON files (or one file).

Each file has ``imagePath`` (relative to the JSON file), ``imageWidth``, ``imageHeight``, maybe
the image itself in ``imageData``, and ``shapes``: ``{label, points, shape_type, ...}``.

Coordinate convention: ``points`` are float pixels with (0, 0) the image's top-left corner;
LabelMe's Qt canvas maps a click inside pixel i to [i, i + 1), which is this package's model
(``shapes.py``), so points are taken as they are: a point at (x, y) lands on pixel
(floor(y), floor(x)). (LabelMe's own ``shape_to_mask`` reads them as pixel indices instead,
half a pixel off.) Shape types:

- point: [[x, y]]; line: 2 points and linestrip: N points, both strokes;
- polygon: N vertices; circle: [centre, a point on the circle];
- rectangle: 2 opposite corners, in any order (a box);
- mask: ``points`` = [[x1, y1], [x2, y2]] the box, ``mask`` = base64 PNG of the box crop,
  placed at pixel (floor(y1), floor(x1)) as LabelMe does (``int`` of the corner).
"""
import base64
import io
import json
from pathlib import Path
from typing import List

import numpy as np
from PIL import Image

from ...utils.errors import InputError
from .shapes import ImageShapes, Shape

__all__ = ["labelme_files", "looks_like_labelme", "read_labelme"]

_KINDS = {"point": "point", "line": "line", "linestrip": "line", "polygon": "polygon",
          "circle": "ellipse", "rectangle": "box", "mask": "mask"}


def looks_like_labelme(path: Path) -> bool:
    """A JSON file (or a folder with some among its first few) whose object has ``shapes`` and
    ``imagePath``."""
    for file in labelme_files(path)[:5]:
        try:
            data = json.loads(file.read_text())
        except (OSError, ValueError, UnicodeDecodeError):
            continue
        if isinstance(data, dict) and "shapes" in data and "imagePath" in data:
            return True
    return False


def labelme_files(export, exclude=None) -> List[Path]:
    """The JSON files of ``export`` (itself, or those of the folder and its sub-folders), except
    those under ``exclude`` (an import's output folder inside the export's folder)."""
    export = Path(export)
    if not export.is_dir():
        return [export]
    skip = Path(exclude).resolve() if exclude is not None else None
    return [p for p in sorted(export.rglob("*.json"))
            if skip is None or skip not in p.resolve().parents]


def read_labelme(export, exclude=None) -> List[ImageShapes]:
    """The shapes of every LabelMe JSON file of ``export`` (a file, or a folder searched
    recursively, leaving out ``exclude``), one ``ImageShapes`` per file; ``image`` is the image
    path relative to the folder (the file's ``imagePath`` resolved against the file's folder)."""
    export = Path(export)
    files = labelme_files(export, exclude)
    if not files:
        raise InputError(f"{export}: no LabelMe *.json file in this folder or its sub-folders")
    base = export if export.is_dir() else export.parent
    return [_read_file(file, base) for file in files]


def _read_file(file: Path, base: Path) -> ImageShapes:
    try:
        data = json.loads(file.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{file}: not a readable JSON file ({e})") from None
    if not isinstance(data, dict) or not isinstance(data.get("shapes"), list) \
            or "imagePath" not in data:
        raise InputError(f"{file}: not a LabelMe file (expected an object with 'shapes' and "
                         "'imagePath')")
    image = Path(file.parent, data["imagePath"]).resolve()
    try:
        name = str(image.relative_to(base.resolve()))
    except ValueError:
        name = str(image)
    shapes = [_shape(file, i, s) for i, s in enumerate(data["shapes"])]
    return ImageShapes(image=name, width=data.get("imageWidth"), height=data.get("imageHeight"),
                       shapes=shapes, source=str(file))


def _shape(file: Path, index: int, raw: dict) -> Shape:
    shape_type = raw.get("shape_type") or "polygon"  # LabelMe 3 wrote no shape_type
    where = f"shape {index} ({shape_type} {raw.get('label')!r})"
    if shape_type not in _KINDS:
        raise InputError(f"{file}: {where}: unknown shape_type {shape_type!r}; expected one of "
                         f"{sorted(_KINDS)}")
    try:
        points = np.asarray(raw["points"], np.float64).reshape(-1, 2)
    except (KeyError, TypeError, ValueError):
        raise InputError(f"{file}: {where}: 'points' is not a list of [x, y] pairs") from None
    needed = {"point": 1, "line": 2, "linestrip": 2, "polygon": 3, "circle": 2, "rectangle": 2,
              "mask": 2}[shape_type]
    if len(points) < needed or not np.isfinite(points).all():
        raise InputError(f"{file}: {where}: {len(points)} finite points; a {shape_type} needs "
                         f"{needed} or more")
    shape = Shape(label=str(raw["label"]), kind=_KINDS[shape_type], points=points, where=where)
    if shape_type == "circle":
        (cx, cy), edge = points[0], points[1]
        radius = float(np.hypot(*(edge - points[0])))
        shape.ellipse, shape.points = (cx, cy, radius, radius, 0.0), np.zeros((0, 2))
    elif shape_type == "rectangle":
        (x0, y0), (x1, y1) = points.min(0), points.max(0)
        shape.points = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
    elif shape_type == "mask":
        shape.mask, shape.offset = _mask(file, where, raw, points)
        shape.points = np.zeros((0, 2))
    return shape


def _mask(file: Path, where: str, raw: dict, points: np.ndarray):
    try:
        with Image.open(io.BytesIO(base64.b64decode(raw["mask"]))) as im:
            crop = np.asarray(im.convert("L"))
    except Exception as e:  # base64 and PIL raise several types for a broken mask
        raise InputError(f"{file}: {where}: 'mask' is not a base64 PNG ({e})") from None
    left, top = (int(np.floor(v)) for v in points.min(0))
    return crop, (left, top)
