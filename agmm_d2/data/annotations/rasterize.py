"""Shapes of one image -> a sparse label: (H, W) uint8 class ids, 255 = not annotated.

What each kind of shape means for sparse supervision (``RasterOptions``):

- point: a disk of ``point_radius`` pixels around the pixel that holds the click (radius 0 is
  that one pixel). A click at (x, y) lands on pixel (row floor(y), column floor(x)).
- line (polyline, LabelMe line / linestrip, CVAT polyline): a stroke ``line_width`` pixels wide
  through the vertices, with round joins and ends (OpenCV ``polylines``).
- polygon, ellipse (and circle), mask (CVAT mask, LabelMe mask, Label Studio brush): the filled
  region, filled by OpenCV (``fillPoly``, ``ellipse``) with sub-pixel vertices: a pixel whose
  centre is inside is in; OpenCV rounds an outline that falls exactly half-way between two
  pixel centres outwards on the right and bottom, so a box with integer corners (x0, y0) to
  (x1, y1) fills columns x0..x1 and rows y0..y1.
- box: skipped and counted, unless ``boxes="fill"``: a box rarely outlines its object, so its
  pixels are not a label of its class.

Where shapes overlap (``overlap``):

- "smaller" (default): the shape with fewer pixels wins, so a click or a scribble inside a
  larger region, or an object drawn inside the background's polygon, keeps its own class; equal
  sizes fall back to the export's order (the later wins).
- "later": the export's drawing order (CVAT's z_order first); the later shape wins.

A shape whose class is an ignored name (``__ignore__``) paints "not annotated" with the same
rule, so it can carve an unsure part out of a larger region.
"""
from dataclasses import asdict, dataclass
from typing import Dict, List, Tuple

import cv2
import numpy as np

from ...utils.errors import InputError
from .shapes import ImageShapes, Shape

__all__ = ["OVERLAP_RULES", "RasterOptions", "rasterize", "shape_mask"]

OVERLAP_RULES = ("smaller", "later")
BOX_MODES = ("skip", "fill")
UNLABELED = 255

# OpenCV draws with fixed-point coordinates: 8 fractional bits keep sub-pixel vertices.
_SHIFT = 8
_ONE = 1 << _SHIFT


@dataclass(frozen=True)
class RasterOptions:
    """How shapes become pixels (see the module docstring).

    Attributes:
        point_radius: disk radius of a point, in pixels (0: one pixel).
        line_width: stroke width of a line or polyline, in pixels (at least 1).
        boxes: "skip" or "fill".
        overlap: "smaller" or "later".
        mask_threshold: a brush or mask pixel counts from this value on (1..255): Label Studio's
            brush is anti-aliased, its edge pixels take alpha values 1..254.
    """

    point_radius: int = 2
    line_width: int = 3
    boxes: str = "skip"
    overlap: str = "smaller"
    mask_threshold: int = 128

    def __post_init__(self):
        if self.point_radius < 0:
            raise InputError(f"point_radius {self.point_radius}: expected 0 or more pixels")
        if self.line_width < 1:
            raise InputError(f"line_width {self.line_width}: expected 1 or more pixels")
        if self.boxes not in BOX_MODES:
            raise InputError(f"boxes {self.boxes!r}: expected one of {BOX_MODES}")
        if self.overlap not in OVERLAP_RULES:
            raise InputError(f"overlap {self.overlap!r}: expected one of {OVERLAP_RULES}")
        if not 1 <= self.mask_threshold <= 255:
            raise InputError(f"mask_threshold {self.mask_threshold}: expected 1..255")

    def as_dict(self) -> dict:
        return asdict(self)


def _fixed(points: np.ndarray) -> np.ndarray:
    """(N, 2) corner-model coordinates -> OpenCV's fixed-point pixel-centre coordinates."""
    fixed = np.round((np.asarray(points, np.float64) - 0.5) * _ONE)
    return fixed.astype(np.int32).reshape(-1, 1, 2)


def shape_mask(shape: Shape, height: int, width: int, options: RasterOptions) -> np.ndarray:
    """(H, W) bool: the pixels ``shape`` covers in an image of that size (clipped to it)."""
    canvas = np.zeros((height, width), np.uint8)
    if shape.kind == "point":
        for x, y in shape.points:
            if not (0 <= x <= width and 0 <= y <= height):
                continue  # outside: reported by rasterize
            col = min(int(np.floor(x)), width - 1)
            row = min(int(np.floor(y)), height - 1)
            cv2.circle(canvas, (col, row), options.point_radius, 1, thickness=-1)
    elif shape.kind == "line":
        cv2.polylines(canvas, [_fixed(shape.points)], False, 1, thickness=options.line_width,
                      lineType=cv2.LINE_8, shift=_SHIFT)
    elif shape.kind in ("polygon", "box"):
        cv2.fillPoly(canvas, [_fixed(shape.points)], 1, lineType=cv2.LINE_8, shift=_SHIFT)
    elif shape.kind == "ellipse":
        cx, cy, rx, ry, angle = shape.ellipse
        center = tuple(int(v) for v in _fixed([[cx, cy]]).ravel())
        axes = (int(round(rx * _ONE)), int(round(ry * _ONE)))
        cv2.ellipse(canvas, center, axes, angle, 0, 360, 1, thickness=-1, lineType=cv2.LINE_8,
                    shift=_SHIFT)
    elif shape.kind == "mask":
        left, top = shape.offset
        crop = shape.mask[max(0, -top):, max(0, -left):]
        top, left = max(0, top), max(0, left)
        crop = crop[:max(0, height - top), :max(0, width - left)] >= options.mask_threshold
        canvas[top:top + crop.shape[0], left:left + crop.shape[1]] = crop
    else:
        raise ValueError(f"unknown shape kind {shape.kind!r}")
    return canvas.astype(bool)


def _outside(shape: Shape, height: int, width: int) -> bool:
    x0, y0, x1, y1 = shape.bounds()
    return x0 < 0 or y0 < 0 or x1 > width or y1 > height


def rasterize(image: ImageShapes, ids: Dict[str, int], options: RasterOptions,
              height: int, width: int) -> Tuple[np.ndarray, List[str], int]:
    """The sparse label of ``image``'s shapes and the warnings it gives.

    Args:
        ids: {label name: class id, or 255 for an ignored name}; a name not in it is an
            InputError naming the file, the image and the shape.
        height, width: the size of the image file.

    Returns:
        (H, W) uint8 label (class ids, 255 = not annotated), one warning line per shape clipped
        at the image border, and the number of boxes skipped. A shape with no pixel in the
        image is an InputError.
    """
    where = f"{image.source}: image {image.image}"
    drawn, warnings, skipped = [], [], 0
    for order, shape in enumerate(image.shapes):
        if shape.label not in ids:
            known = ", ".join(repr(n) for n in list(ids)[:12])
            raise InputError(f"{where}: {shape.where} has label {shape.label!r}, which is not in "
                             f"the class list ({known}{', ...' if len(ids) > 12 else ''})")
        if shape.kind == "box" and options.boxes == "skip":
            skipped += 1
            continue
        covered = shape_mask(shape, height, width, options)
        area = int(covered.sum())
        if area == 0:
            raise InputError(f"{where}: {shape.where} has no pixel inside the {width}x{height} "
                             f"image (its extent is {_extent(shape)}); are the coordinates or "
                             "the image the right ones?")
        if _outside(shape, height, width):
            warnings.append(f"{where}: {shape.where} extends outside the {width}x{height} image "
                            f"({_extent(shape)}); clipped at the border")
        drawn.append((area, order, covered, ids[shape.label]))
    if options.overlap == "smaller":
        drawn.sort(key=lambda item: (-item[0], item[1]))
    label = np.full((height, width), UNLABELED, np.uint8)
    for _, _, covered, class_id in drawn:
        label[covered] = class_id
    return label, warnings, skipped


def _extent(shape: Shape) -> str:
    x0, y0, x1, y1 = shape.bounds()
    return f"x {x0:.1f}..{x1:.1f}, y {y0:.1f}..{y1:.1f}"
