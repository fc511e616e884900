"""The shapes that every importer produces, whatever tool wrote the export.

Coordinates are continuous image coordinates in pixels: (0, 0) is the top-left corner of the
image and pixel (row r, column c) covers [c, c + 1) x [r, r + 1), so its centre is
(c + 0.5, r + 0.5). This is the canvas model of LabelMe, CVAT and Label Studio alike; each
importer converts its tool's units (percent, bounding-box crops) to it and says how in its
docstring. ``rasterize`` turns the shapes of an image into a sparse label.
"""
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from ...utils.errors import InputError

__all__ = ["ImageShapes", "KINDS", "Shape", "class_ids", "read_class_list", "rotate_about"]

# point: one or more clicks; line: an open polyline (a scribble); polygon, ellipse, mask:
# regions; box: an axis-aligned or rotated rectangle (4 corners), skipped unless asked for.
KINDS = ("point", "line", "polygon", "ellipse", "mask", "box")


@dataclass
class Shape:
    """One labelled shape of one image.

    Attributes:
        label: the tool's label name.
        kind: one of ``KINDS``.
        points: (N, 2) float64 (x, y) pixel coordinates: the clicks, the polyline's or polygon's
            vertices, or the box's four corners; (0, 2) for an ellipse or a mask.
        ellipse: (cx, cy, rx, ry, angle in degrees, clockwise on screen) for an ellipse.
        mask: (h, w) uint8 crop of a mask (0 = out, 255 = in; brush edges in between, see
            ``RasterOptions.mask_threshold``), its top-left pixel at ``offset`` (column, row).
        where: how messages name the shape, e.g. "shape 3 (polygon 'person')".
    """

    label: str
    kind: str
    points: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    ellipse: Optional[Tuple[float, float, float, float, float]] = None
    mask: Optional[np.ndarray] = None
    offset: Tuple[int, int] = (0, 0)
    where: str = ""

    def bounds(self) -> Tuple[float, float, float, float]:
        """(x0, y0, x1, y1) of the shape's extent in pixel coordinates."""
        if self.kind == "ellipse":
            cx, cy, rx, ry, _ = self.ellipse
            r = max(rx, ry)
            return cx - r, cy - r, cx + r, cy + r
        if self.kind == "mask":
            left, top = self.offset
            return left, top, left + self.mask.shape[1], top + self.mask.shape[0]
        return (*self.points.min(0), *self.points.max(0))


@dataclass
class ImageShapes:
    """The shapes of one image of an export.

    Attributes:
        image: the image's name as the export gives it (a path, relative or not, or a URL).
        width, height: the image size the export states, in pixels (None where it states none).
        shapes: in the export's drawing order.
        source: the export file, for messages.
        notes: what the importer left out of ``shapes`` and why, one line each (e.g. a
            CVAT tag or cuboid), reported as warnings.
    """

    image: Optional[str]
    width: Optional[int]
    height: Optional[int]
    shapes: List[Shape]
    source: str
    notes: List[str] = field(default_factory=list)


def read_class_list(classes: Union[str, Path, Sequence[str]]) -> List[str]:
    """Class names in id order: a sequence of names, or a text file with one name a line
    (blank lines skipped; LabelMe's labels.txt works as it is)."""
    if isinstance(classes, (str, Path)):
        path = Path(classes)
        if not path.is_file():
            raise InputError(f"--classes {path}: no such file; expected a text file with one "
                             "class name a line, in class id order")
        names = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    else:
        names = [str(c) for c in classes]
    if not names:
        raise InputError(f"--classes {classes}: no class names")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InputError(f"--classes {classes}: names listed twice: {twice}")
    return names


def class_ids(names: Sequence[str], ignore_names: Sequence[str]) -> Dict[str, int]:
    """{label name: class id}: ids count the names in order, skipping ``ignore_names``, whose
    shapes are painted as "not annotated" (255), as labelme2voc does with ``__ignore__``."""
    ids, next_id = {}, 0
    for name in names:
        if name in ignore_names:
            ids[name] = 255
        else:
            ids[name] = next_id
            next_id += 1
    if next_id > 255:
        raise InputError(f"{next_id} classes: at most 255 fit a label PNG beside the value 255")
    return ids


def rotate_about(points: np.ndarray, cx: float, cy: float, degrees: float) -> np.ndarray:
    """(N, 2) points rotated by ``degrees`` clockwise on screen (y points down) about (cx, cy)."""
    t = np.deg2rad(degrees)
    d = np.asarray(points, np.float64) - [cx, cy]
    return np.stack([d[:, 0] * np.cos(t) - d[:, 1] * np.sin(t),
                     d[:, 0] * np.sin(t) + d[:, 1] * np.cos(t)], 1) + [cx, cy]
