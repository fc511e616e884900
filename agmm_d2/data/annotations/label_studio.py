"""Label Studio: the JSON export (a list of tasks), one task, or a list of predictions.

A task has ``data`` (the image: ``data["image"]``, else its only text value) and
``annotations``, each with a ``result`` list (a file of predictions has the ``result`` lists at
the top level). Both layouts Label Studio writes are read:

- ``<tool>labels`` results (``keypointlabels``, ``polygonlabels``, ``brushlabels``,
  ``rectanglelabels``, ``ellipselabels``) carry the label inside ``value``;
- a geometry result (``keypoint``, ``polygon``, ``brush``, ``rectangle``, ``ellipse``) and a
  ``labels`` result with the same ``id`` carry geometry and label apart, and are joined.

Other results (``relation``, ``choices``, text) are not shapes and are left out silently; a
task with several annotations uses its first one that was not cancelled, and says so.

Coordinate convention: coordinates are **percent** (0..100) of ``original_width`` and
``original_height``, with (0, 0) the top-left corner; x_px = x / 100 * original_width (and y
with the height), in this package's model (``shapes.py``). Keypoint ``x, y`` is the point (its
``width`` is only its drawn size); rectangle ``x, y`` is its top-left corner, ``width``,
``height`` its size, ``rotation`` degrees clockwise about that corner; ellipse ``x, y`` the
centre, ``radiusX`` in percent of the width, ``radiusY`` of the height; polygon ``points`` the
vertices. A brush's ``rle`` is thi.ng rle-pack's bit stream of the image's RGBA pixels, row by
row; its alpha channel is the mask (anti-aliased at the edges: 0..255, see
``RasterOptions.mask_threshold``).
"""
import json
from pathlib import Path
from typing import List, Optional, Tuple

import numpy as np

from ...utils.errors import InputError
from .shapes import ImageShapes, Shape, rotate_about

__all__ = ["decode_brush_rle", "looks_like_label_studio", "read_label_studio"]

_GEOMETRY = {"keypoint": "point", "polygon": "polygon", "brush": "mask", "rectangle": "box",
             "ellipse": "ellipse"}


def looks_like_label_studio(path: Path) -> bool:
    """A JSON file of tasks with ``annotations`` or of results with ``result``."""
    if not path.is_file():
        return False
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError, UnicodeDecodeError):
        return False
    first = data[0] if isinstance(data, list) and data else data
    return isinstance(first, dict) and ("annotations" in first or "result" in first)


def read_label_studio(export) -> List[ImageShapes]:
    """The shapes of every task of a Label Studio JSON export, one ``ImageShapes`` per task;
    ``image`` is the task's image reference as written (a path or URL), None if it has none."""
    export = Path(export)
    try:
        data = json.loads(export.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{export}: not a readable JSON file ({e})") from None
    tasks = data if isinstance(data, list) else [data]
    if not all(isinstance(t, dict) and ("annotations" in t or "result" in t) for t in tasks):
        raise InputError(f"{export}: not a Label Studio export (expected a list of tasks, each "
                         "with 'annotations', or of predictions, each with 'result')")
    return [_task(export, i, task) for i, task in enumerate(tasks)]


def _image_ref(task: dict) -> Optional[str]:
    data = task.get("data") or {}
    if isinstance(data.get("image"), str):
        return data["image"]
    texts = [v for v in data.values() if isinstance(v, str)]
    return texts[0] if len(texts) == 1 else None


def _task(export: Path, index: int, task: dict) -> ImageShapes:
    name = f"task {task.get('id', index)}"
    image = ImageShapes(image=_image_ref(task), width=None, height=None, shapes=[],
                        source=str(export))
    if "result" in task:
        results = task["result"]
    else:
        kept = [a for a in task["annotations"] if not a.get("was_cancelled")]
        if len(kept) > 1:
            image.notes.append(f"{export}: {name} has {len(kept)} annotations; the first (id "
                               f"{kept[0].get('id')}) is used")
        results = kept[0]["result"] if kept else []
    labels = {r.get("id"): r["value"].get("labels") for r in results
              if r.get("type") == "labels" and isinstance(r.get("value"), dict)}
    for number, result in enumerate(results):
        kind_name = result.get("type", "")
        tool = kind_name[:-len("labels")] if kind_name.endswith("labels") else kind_name
        if tool not in _GEOMETRY:
            continue
        value = result.get("value") or {}
        names = value.get(kind_name) if kind_name != tool else labels.get(result.get("id"))
        where = f"{name} result {number} ({kind_name} id {result.get('id')!r})"
        if not names or len(names) != 1:
            raise InputError(f"{export}: {where} has labels {names!r}; expected exactly one "
                             "label (a 'labels' result with the same id, or the label in value)")
        size = _size(export, where, result)
        if image.width is None:
            image.width, image.height = size
        elif (image.width, image.height) != size:
            raise InputError(f"{export}: {where}: original size {size[0]}x{size[1]} differs from "
                             f"the task's {image.width}x{image.height}")
        shape = Shape(label=str(names[0]), kind=_GEOMETRY[tool], where=where)
        _geometry(export, where, shape, value, size)
        image.shapes.append(shape)
    return image


def _size(export, where, result) -> Tuple[int, int]:
    try:
        size = int(result["original_width"]), int(result["original_height"])
    except (KeyError, TypeError, ValueError):
        raise InputError(f"{export}: {where} lacks original_width / original_height") from None
    if int(float(result.get("image_rotation", 0) or 0)) % 360:
        raise InputError(f"{export}: {where}: image_rotation {result['image_rotation']}; rotated "
                         "images are not supported (rotate the image file itself instead)")
    return size


def _geometry(export, where, shape: Shape, value: dict, size: Tuple[int, int]) -> None:
    scale = np.array(size, np.float64) / 100.0
    try:
        if shape.kind == "point":
            shape.points = np.array([[value["x"], value["y"]]], np.float64) * scale
        elif shape.kind == "polygon":
            shape.points = np.asarray(value["points"], np.float64).reshape(-1, 2) * scale
        elif shape.kind == "box":
            x, y = np.array([value["x"], value["y"]]) * scale
            w, h = np.array([value["width"], value["height"]]) * scale
            corners = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]])
            shape.points = rotate_about(corners, x, y, float(value.get("rotation", 0)))
        elif shape.kind == "ellipse":
            cx, cy = np.array([value["x"], value["y"]]) * scale
            rx, ry = value["radiusX"] * scale[0], value["radiusY"] * scale[1]
            shape.ellipse = (cx, cy, rx, ry, float(value.get("rotation", 0)))
        else:
            if value.get("format", "rle") != "rle":
                raise InputError(f"{export}: {where}: brush format {value['format']!r}; "
                                 "expected 'rle'")
            rgba = decode_brush_rle(value["rle"], size[0] * size[1] * 4, f"{export}: {where}")
            shape.mask = rgba.reshape(size[1], size[0], 4)[:, :, 3]
    except (KeyError, TypeError, ValueError) as e:
        raise InputError(f"{export}: {where}: value lacks or misstates {e} for a "
                         f"{shape.kind}") from None
    if shape.points.size and not np.isfinite(shape.points).all():
        raise InputError(f"{export}: {where}: coordinates are not finite numbers")


class _Bits:
    """Read unsigned integers of any width from a byte string, most significant bit first."""

    def __init__(self, data: bytes):
        self.data, self.pos = data + bytes(8), 0
        self.end = 8 * len(data)

    def read(self, width: int) -> int:
        start, offset = divmod(self.pos, 8)
        chunk = int.from_bytes(self.data[start:start + 8], "big")  # 64 bits cover offset + 32
        self.pos += width
        if self.pos > self.end:
            raise ValueError("the bit stream ends early")
        return (chunk >> (64 - offset - width)) & ((1 << width) - 1)


def decode_brush_rle(rle, expected: Optional[int] = None, where: str = "brush") -> np.ndarray:
    """Decode Label Studio's brush ``rle`` (a list of bytes) to its flat uint8 values.

    thi.ng/rle-pack's format: 32 bits value count, 5 bits word size - 1, four 4-bit run-length
    sizes - 1; then chunks of 1 flag bit (1: repeat, 0: literal), 2 bits choosing a run-length
    size, the run length - 1 in that many bits, and the value once (repeat) or each value
    (literal), word-size bits each. ``expected``: the value count the image needs (W*H*4).
    """
    try:
        bits = _Bits(bytes(int(v) for v in rle))
        count, word = bits.read(32), bits.read(5) + 1
        sizes = [bits.read(4) + 1 for _ in range(4)]
        if expected is not None and count != expected:
            raise ValueError(f"it holds {count} values, the image needs {expected} (W*H*4)")
        out = np.zeros(count, np.uint32)
        i = 0
        while i < count:
            repeat = bits.read(1)
            end = i + 1 + bits.read(sizes[bits.read(2)])
            if end > count:
                raise ValueError("a run goes past the end of the image")
            if repeat:
                out[i:end] = bits.read(word)
            else:
                out[i:end] = [bits.read(word) for _ in range(end - i)]
            i = end
    except (TypeError, ValueError) as e:
        raise InputError(f"{where}: brush rle cannot be decoded: {e}") from None
    return np.minimum(out, 255).astype(np.uint8)
