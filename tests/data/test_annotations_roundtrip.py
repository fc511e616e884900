"""Round trips: known shapes written in each tool's format by the test, read back by the
importer and compared pixel for pixel with the rasterisation of the known shapes; plus the
rasteriser against plain references (pixel centres inside a polygon or an ellipse)."""
import base64
import io
import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image

from agmm_d2.data.annotations import (
    ImageShapes,
    RasterOptions,
    Shape,
    class_ids,
    decode_brush_rle,
    rasterize,
    read_cvat,
    read_label_studio,
    read_labelme,
    shape_mask,
)

W, H = 48, 32
CLASSES = ["road sign", "lane marking", "car", "sky", "tree", "potted plant"]
IDS = class_ids(CLASSES, ())


def _crop():
    """An anti-aliased blob: alpha 255 inside, a ramp 1..254 at its edge, 0 outside."""
    yy, xx = np.mgrid[0:10, 0:12]
    distance = np.hypot(yy - 4.5, xx - 5.5)
    return np.clip((5.0 - distance) * 120 + 128, 0, 255).astype(np.uint8)


def _reference():
    """One shape per kind, with the edge cases: border, repeated vertex, spaces in names."""
    return [
        Shape("road sign", "point", points=np.array([[10.5, 7.5], [47.5, 31.5]])),
        Shape("lane marking", "line", points=np.array([[2.5, 2.5], [20.25, 5.5], [30.5, 20.5]])),
        # touches the top and left border, and repeats its vertex (12, 0)
        Shape("car", "polygon", points=np.array([[0, 0], [12, 0], [12, 0], [14, 10], [0, 12]])),
        Shape("sky", "ellipse", ellipse=(30.0, 20.0, 6.0, 4.0, 0.0)),
        Shape("tree", "box", points=np.array([[36.0, 2.0], [48.0, 2.0], [48.0, 9.0],
                                              [36.0, 9.0]])),  # touches the right border
        Shape("potted plant", "mask", mask=_crop(), offset=(20, 20)),
    ]


def _expected(shapes, **options):
    image = ImageShapes("img.png", W, H, shapes, "reference")
    return rasterize(image, IDS, RasterOptions(boxes="fill", **options), H, W)[0]


def _read_back(image, **options):
    return rasterize(image, IDS, RasterOptions(boxes="fill", **options), H, W)[0]


# ----------------------------------------------------------------------------------- writers
def _png_base64(array):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def _write_labelme(path, shapes):
    out = []
    for s in shapes:
        if s.kind == "point":
            out += [{"label": s.label, "points": [p.tolist()], "shape_type": "point"}
                    for p in s.points]
        elif s.kind == "line":
            out.append({"label": s.label, "points": s.points.tolist(), "shape_type": "linestrip"})
        elif s.kind == "polygon":
            out.append({"label": s.label, "points": s.points.tolist(), "shape_type": "polygon"})
        elif s.kind == "ellipse":  # LabelMe has circles only: [centre, a point on it]
            cx, cy, r, _, _ = s.ellipse
            out.append({"label": s.label, "points": [[cx, cy], [cx, cy + r]],
                        "shape_type": "circle"})
        elif s.kind == "box":  # two opposite corners, in reverse order here
            out.append({"label": s.label, "points": [s.points[2].tolist(), s.points[0].tolist()],
                        "shape_type": "rectangle"})
        else:
            (left, top), (h, w) = s.offset, s.mask.shape
            out.append({"label": s.label, "shape_type": "mask", "mask": _png_base64(s.mask),
                        "points": [[left + 0.4, top + 0.4], [left + w - 0.6, top + h - 0.6]]})
    path.write_text(json.dumps({"version": "5.7.0", "shapes": out, "imagePath": "img.png",
                                "imageData": None, "imageWidth": W, "imageHeight": H}))


def _pairs(points):
    return ";".join(f"{x:.2f},{y:.2f}" for x, y in points)


def _write_cvat(path, shapes):
    root = ET.Element("annotations")
    image = ET.SubElement(root, "image", id="0", name="img.png", width=str(W), height=str(H))
    for s in shapes:
        attrs = {"label": s.label, "source": "manual", "occluded": "0", "z_order": "0"}
        if s.kind in ("point", "line", "polygon"):
            tag = {"point": "points", "line": "polyline", "polygon": "polygon"}[s.kind]
            ET.SubElement(image, tag, points=_pairs(s.points), **attrs)
        elif s.kind == "ellipse":
            cx, cy, rx, ry, _ = s.ellipse
            ET.SubElement(image, "ellipse", cx=f"{cx:.2f}", cy=f"{cy:.2f}", rx=f"{rx:.2f}",
                          ry=f"{ry:.2f}", **attrs)
        elif s.kind == "box":
            (x0, y0), (x1, y1) = s.points[0], s.points[2]
            ET.SubElement(image, "box", xtl=f"{x0:.2f}", ytl=f"{y0:.2f}", xbr=f"{x1:.2f}",
                          ybr=f"{y1:.2f}", **attrs)
        else:  # CVAT masks are binary: runs over the box, row by row, starting "not set"
            flat = (s.mask >= 128).ravel()
            change = np.flatnonzero(np.diff(np.r_[False, flat, not flat[-1]]))
            runs = np.diff(np.r_[0, change])
            (left, top), (h, w) = s.offset, s.mask.shape
            ET.SubElement(image, "mask", rle=",".join(map(str, runs.tolist())), left=str(left),
                          top=str(top), width=str(w), height=str(h), **attrs)
    ET.ElementTree(root).write(path)


class _BitWriter:
    def __init__(self):
        self.bits = []

    def write(self, value, width):
        self.bits += [(value >> (width - 1 - i)) & 1 for i in range(width)]

    def bytes(self):
        padded = self.bits + [0] * (-len(self.bits) % 8)
        return np.packbits(np.array(padded, np.uint8)).tolist()


def _encode_rle(values):
    """thi.ng rle-pack: 8-bit words, four 16-bit run-length sizes, repeat chunks only."""
    out = _BitWriter()
    out.write(len(values), 32)
    out.write(7, 5)
    for _ in range(4):
        out.write(15, 4)
    i = 0
    while i < len(values):
        j = i
        while j < len(values) and values[j] == values[i] and j - i < 65536:
            j += 1
        out.write(1, 1)
        out.write(0, 2)
        out.write(j - i - 1, 16)
        out.write(int(values[i]), 8)
        i = j
    return out.bytes()


def _write_label_studio(path, shapes):
    results = []
    percent = np.array([100.0 / W, 100.0 / H])
    base = {"original_width": W, "original_height": H, "image_rotation": 0, "to_name": "image"}
    for n, s in enumerate(shapes):
        if s.kind == "point":
            results += [{**base, "id": f"p{n}{k}", "type": "keypointlabels", "value": {
                "x": x, "y": y, "width": 0.5, "keypointlabels": [s.label]}}
                for k, (x, y) in enumerate(s.points * percent)]
        elif s.kind == "polygon":
            results.append({**base, "id": f"s{n}", "type": "polygonlabels", "value": {
                "points": (s.points * percent).tolist(), "closed": True,
                "polygonlabels": [s.label]}})
        elif s.kind == "ellipse":
            cx, cy, rx, ry, angle = s.ellipse
            results.append({**base, "id": f"s{n}", "type": "ellipselabels", "value": {
                "x": cx * percent[0], "y": cy * percent[1], "radiusX": rx * percent[0],
                "radiusY": ry * percent[1], "rotation": angle, "ellipselabels": [s.label]}})
        elif s.kind == "box":
            (x0, y0), (x1, y1) = s.points[0] * percent, s.points[2] * percent
            results.append({**base, "id": f"s{n}", "type": "rectanglelabels", "value": {
                "x": x0, "y": y0, "width": x1 - x0, "height": y1 - y0, "rotation": 0,
                "rectanglelabels": [s.label]}})
        elif s.kind == "mask":  # the "tool + Labels" layout: geometry and label joined by id
            alpha = np.zeros((H, W), np.uint8)
            (left, top), (h, w) = s.offset, s.mask.shape
            alpha[top:top + h, left:left + w] = s.mask
            rgba = np.repeat(alpha[:, :, None], 4, axis=2).ravel()
            value = {"format": "rle", "rle": _encode_rle(rgba)}
            results.append({**base, "id": f"s{n}", "type": "brush", "value": value})
            results.append({**base, "id": f"s{n}", "type": "labels",
                            "value": {**value, "labels": [s.label]}})
    path.write_text(json.dumps([{"id": 1, "data": {"image": "/data/upload/1/img.png"},
                                 "annotations": [{"id": 1, "result": results}]}]))


# ----------------------------------------------------------------------------- the round trips
LABELME_KINDS = ["point", "line", "polygon", "ellipse", "box", "mask"]
CVAT_KINDS = ["point", "line", "polygon", "ellipse", "box", "mask"]
STUDIO_KINDS = ["point", "polygon", "ellipse", "box", "mask"]  # Label Studio draws no polylines


@pytest.mark.parametrize("kind", LABELME_KINDS)
def test_labelme_round_trip(tmp_path, kind):
    shapes = [s for s in _reference() if s.kind == kind]
    if kind == "mask":  # LabelMe masks are binary
        shapes[0].mask = np.where(shapes[0].mask >= 128, 255, 0).astype(np.uint8)
    if kind == "ellipse":  # LabelMe draws circles only
        shapes[0].ellipse = (30.0, 20.0, 5.0, 5.0, 0.0)
    _write_labelme(tmp_path / "img.json", shapes)
    (image,) = read_labelme(tmp_path)
    assert image.image == "img.png" and len(image.shapes) == (2 if kind == "point" else 1)
    np.testing.assert_array_equal(_read_back(image), _expected(shapes))


@pytest.mark.parametrize("kind", CVAT_KINDS)
def test_cvat_round_trip(tmp_path, kind):
    shapes = [s for s in _reference() if s.kind == kind]
    _write_cvat(tmp_path / "annotations.xml", shapes)
    (image,) = read_cvat(tmp_path / "annotations.xml")
    expected = _expected(shapes) if kind != "mask" else _expected(shapes, mask_threshold=128)
    np.testing.assert_array_equal(_read_back(image), expected)


@pytest.mark.parametrize("kind", STUDIO_KINDS)
def test_label_studio_round_trip(tmp_path, kind):
    shapes = [s for s in _reference() if s.kind == kind]
    _write_label_studio(tmp_path / "export.json", shapes)
    (image,) = read_label_studio(tmp_path / "export.json")
    assert image.image == "/data/upload/1/img.png"
    np.testing.assert_array_equal(_read_back(image), _expected(shapes))


def test_all_kinds_together_in_each_format(tmp_path):
    shapes = _reference()
    shapes[-1].mask = np.where(shapes[-1].mask >= 128, 255, 0).astype(np.uint8)
    shapes[3].ellipse = (30.0, 20.0, 5.0, 5.0, 0.0)
    expected = _expected(shapes)
    _write_labelme(tmp_path / "img.json", shapes)
    _write_cvat(tmp_path / "annotations.xml", shapes)
    assert np.array_equal(_read_back(read_labelme(tmp_path / "img.json")[0]), expected)
    assert np.array_equal(_read_back(read_cvat(tmp_path / "annotations.xml")[0]), expected)
    assert expected[0, 0] == CLASSES.index("car")  # the polygon touching the corner
    assert expected[31, 47] == CLASSES.index("road sign")  # a click in the last pixel
    assert expected[5, 47] == CLASSES.index("tree")  # the box touching the right border


def test_anti_aliased_brush_edge(tmp_path):
    """Edge pixels of a Label Studio brush count from mask_threshold on."""
    shapes = [s for s in _reference() if s.kind == "mask"]
    _write_label_studio(tmp_path / "export.json", shapes)
    (image,) = read_label_studio(tmp_path / "export.json")
    crop = _crop()
    assert 0 < ((crop > 0) & (crop < 255)).sum()  # the test's blob has an anti-aliased edge
    for threshold in (1, 128, 255):
        label = _read_back(image, mask_threshold=threshold)
        assert (label[20:30, 20:32] != 255).sum() == (crop >= threshold).sum()


def test_brush_rle_decoder_on_literal_chunks():
    """Literal chunks (flag 0) and a mixed run-size table decode as thi.ng's format says."""
    values = [3, 1, 4, 1, 5, 9, 2, 6, 6, 6, 6]
    out = _BitWriter()
    out.write(len(values), 32)
    out.write(7, 5)
    for size in (2, 3, 4, 8):
        out.write(size - 1, 4)
    out.write(0, 1), out.write(1, 2), out.write(7, 3)  # literal, size 3 bits: 8 values
    for v in values[:8]:
        out.write(v, 8)
    out.write(1, 1), out.write(0, 2), out.write(2, 2)  # repeat, size 2 bits: 3 times
    out.write(6, 8)
    assert decode_brush_rle(out.bytes()).tolist() == values


# ------------------------------------------------------------- rasteriser vs plain references
def _centres_inside_polygon(points, height, width):
    """Even-odd rule at pixel centres (c + 0.5, r + 0.5)."""
    yy, xx = np.mgrid[0:height, 0:width] + 0.5
    inside = np.zeros((height, width), bool)
    for (x0, y0), (x1, y1) in zip(points, np.roll(points, -1, axis=0)):
        crosses = (y0 > yy) != (y1 > yy)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_at = x0 + (yy - y0) * (x1 - x0) / (y1 - y0)
        inside ^= crosses & (xx < x_at)
    return inside


def _distance_to_outline(points, height, width):
    """Distance of each pixel centre to the polygon's outline."""
    yy, xx = np.mgrid[0:height, 0:width] + 0.5
    best = np.full((height, width), np.inf)
    for a, b in zip(points, np.roll(points, -1, axis=0)):
        ab = b - a
        t = np.clip(((xx - a[0]) * ab[0] + (yy - a[1]) * ab[1]) / max(ab @ ab, 1e-12), 0, 1)
        best = np.minimum(best, np.hypot(xx - a[0] - t * ab[0], yy - a[1] - t * ab[1]))
    return best


def test_polygon_and_ellipse_fill_pixel_centres():
    """Pixels whose centre is inside are in, those outside are out, except within about half a
    pixel (along the row) of the outline, where OpenCV rounds."""
    rng = np.random.default_rng(0)
    options = RasterOptions()
    for _ in range(20):
        points = rng.uniform(2, 30, size=(6, 2)) * [1.5, 1]
        centre = points.mean(0)
        points = points[np.argsort(np.arctan2(*(points - centre).T[::-1]))]  # a simple polygon
        reference = _centres_inside_polygon(points, H, W)
        got = shape_mask(Shape("car", "polygon", points=points), H, W, options)
        differ = got != reference
        assert (_distance_to_outline(points, H, W)[differ] < 1.0).all()
    yy, xx = np.mgrid[0:H, 0:W] + 0.5
    ellipse = shape_mask(Shape("sky", "ellipse", ellipse=(24.0, 16.0, 9.0, 5.0, 0.0)), H, W,
                         options)
    inside = ((xx - 24) / 9) ** 2 + ((yy - 16) / 5) ** 2
    assert ellipse[inside < 0.8].all() and not ellipse[inside > 1.25].any()


def test_overlap_rules():
    big = Shape("sky", "polygon", points=np.array([[0, 0], [48, 0], [48, 32], [0, 32]]))
    dot = Shape("road sign", "point", points=np.array([[10.5, 10.5]]))
    smaller_wins = _expected([dot, big], point_radius=0)
    assert smaller_wins[10, 10] == CLASSES.index("road sign")
    later_wins = _expected([dot, big], point_radius=0, overlap="later")
    assert later_wins[10, 10] == CLASSES.index("sky")
