"""The importers on the tools' own exports (../shared/data/annotation_tools), each tool's
coordinate convention, and the one-line messages of bad exports."""
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from agmm_d2.data.annotations import (
    RasterOptions,
    class_ids,
    detect_format,
    import_annotations,
    rasterize,
    read_class_list,
    read_cvat,
    read_label_studio,
    read_labelme,
)
from agmm_d2.utils.errors import InputError


def _kinds(image):
    counts = {}
    for shape in image.shapes:
        counts[shape.kind] = counts.get(shape.kind, 0) + 1
    return counts


# ---------------------------------------------------------------- real exports (shared README)
def test_labelme_real_files(shared_data):
    folder = shared_data / "annotation_tools" / "labelme"
    images = {Path(i.source).name: i for i in read_labelme(folder)}
    primitives = images["primitives.json"]
    assert (primitives.image, primitives.width, primitives.height) == ("primitives.jpg", 560, 450)
    assert _kinds(primitives) == {"box": 2, "ellipse": 1, "polygon": 1, "line": 2, "point": 1,
                                  "mask": 1}
    octagon = [s for s in primitives.shapes if s.kind == "mask"][0]
    assert octagon.mask.shape == (100, 100) and octagon.offset == (417, 305)
    voc = images["2011_000003.json"]
    assert [s.label for s in voc.shapes].count("person") == 3 and len(voc.shapes) == 5
    assert sum(len(s.points) for s in voc.shapes) == 107
    apc = images["apc2016_obj3.json"]
    assert len(apc.shapes) == 4 and sum(len(s.points) for s in apc.shapes) == 51
    assert (apc.width, apc.height) == (1210, 907)
    # The VOC example with labelme's labels.txt: __ignore__ paints "not annotated".
    ids = class_ids(read_class_list(folder / "labels.txt"), ("__ignore__",))
    assert ids["_background_"] == 0 and ids["person"] == 15 and ids["potted plant"] == 16
    label, warnings, _ = rasterize(voc, ids, RasterOptions(), 338, 500)
    assert set(np.unique(label)) == {5, 15, 255} and not warnings


def test_cvat_real_export(shared_data, tmp_path):
    folder = shared_data / "annotation_tools" / "cvat" / "iteam1_2label"
    images = {i.image: i for i in read_cvat(folder / "annotations.xml")}
    assert sorted(images) == ["birds.jpg", "crack.jpeg", "shapes.jpg", "strawberry.jpg"]
    total = {}
    for image in images.values():
        for kind, n in _kinds(image).items():
            total[kind] = total.get(kind, 0) + n
    assert total == {"polygon": 3, "line": 2, "ellipse": 2, "box": 18}
    assert [len(s.points) for s in images["birds.jpg"].shapes] == [28, 30]
    assert (images["shapes.jpg"].width, images["shapes.jpg"].height) == (588, 643)
    classes = ["bird", "crack", "triangle", "line", "rectangle", "ellipse", "strawberry"]
    report = import_annotations(folder / "images", folder / "annotations.xml", classes,
                                tmp_path / "sparse")
    assert sorted(report.images) == ["birds", "crack", "shapes"]  # strawberry: boxes only
    assert report.boxes_skipped == 18
    assert any("strawberry.jpg: no annotated pixel" in w for w in report.warnings)
    shapes = np.asarray(Image.open(tmp_path / "sparse" / "shapes.png"))
    assert shapes.shape == (643, 588) and set(np.unique(shapes)) == {2, 3, 5, 255}
    assert json.loads((tmp_path / "sparse" / "image_classes.json").read_text())["birds"] == [0]


def test_label_studio_real_exports(shared_data):
    folder = shared_data / "annotation_tools" / "label_studio"
    (sdk,) = read_label_studio(folder / "sdk_test_export_coco" / "data.json")
    assert (sdk.image, sdk.width, sdk.height) == ("test_image1.jpg", 500, 320)
    assert _kinds(sdk) == {"box": 1, "polygon": 1, "point": 2}
    assert [s.label for s in sdk.shapes if s.kind == "point"] == ["keypoint_label1",
                                                                  "keypoint_label2"]
    (editor,) = read_label_studio(folder / "frontend_image_tools" / "1.json")
    assert (editor.width, editor.height) == (2242, 2802)
    assert _kinds(editor) == {"point": 3, "polygon": 1, "mask": 1, "ellipse": 1, "box": 4}
    labels = [s.label for s in editor.shapes if s.kind != "box"]
    assert len(labels) == 6
    brush = [s for s in editor.shapes if s.kind == "mask"][0]
    assert int((brush.mask > 0).sum()) == 59413 and int((brush.mask == 255).sum()) == 55699
    rows = np.flatnonzero(brush.mask.any(1))
    assert (rows.min(), rows.max()) == (1411, 1753)
    (predictions,) = read_label_studio(folder / "ml_backend_yolo_tests" / "test_brush_labels.json")
    assert [int((s.mask == 255).sum()) for s in predictions.shapes] == [12104, 5716, 11709]
    assert all(set(np.unique(s.mask)) == {0, 255} for s in predictions.shapes)


def test_formats_are_recognised(shared_data, tmp_path):
    tools = shared_data / "annotation_tools"
    assert detect_format(tools / "labelme") == "labelme"
    assert detect_format(tools / "cvat" / "iteam1_2label" / "annotations.xml") == "cvat"
    assert detect_format(tools / "label_studio" / "frontend_image_tools" / "1.json") == \
        "labelstudio"
    (tmp_path / "notes.txt").write_text("x,y\n1,2\n")
    with pytest.raises(InputError, match=r"notes.txt: cannot tell its format") as e:
        detect_format(tmp_path / "notes.txt")
    assert "\n" not in str(e.value)


# ---------------------------------------------------------------------- coordinate conventions
def _image(folder: Path, name: str, width: int = 40, height: int = 30) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros((height, width, 3), np.uint8)).save(folder / name)
    return folder / name


def _labelme(folder: Path, image: str, shapes, width: int = 40, height: int = 30) -> Path:
    path = folder / (Path(image).stem + ".json")
    path.write_text(json.dumps({"version": "5.7.0", "flags": {}, "shapes": shapes,
                                "imagePath": image, "imageData": None,
                                "imageWidth": width, "imageHeight": height}))
    return path


def _point(label, x, y):
    return {"label": label, "points": [[x, y]], "shape_type": "point", "group_id": None,
            "flags": {}}


def _imported(tmp_path, export, classes=("a", "b"), **options):
    report = import_annotations(tmp_path / "images", export, list(classes), tmp_path / "out",
                                options=RasterOptions(**options))
    return np.asarray(Image.open(tmp_path / "out" / "img.png")), report


def test_labelme_point_lands_on_the_pixel_it_was_clicked_in(tmp_path):
    """LabelMe's canvas: a click inside pixel (r, c) has x in [c, c + 1), y in [r, r + 1)."""
    _image(tmp_path / "images", "img.png")
    export = _labelme(tmp_path / "images", "img.png",
                      [_point("a", 7.9, 3.0), _point("b", 20.5, 12.49), _point("a", 40.0, 30.0)])
    label, _ = _imported(tmp_path, export, point_radius=0)
    assert list(zip(*np.nonzero(label != 255))) == [(3, 7), (12, 20), (29, 39)]
    assert label[3, 7] == 0 and label[12, 20] == 1 and label[29, 39] == 0


def test_cvat_corner_convention(tmp_path):
    """CVAT: pixel i covers [i, i + 1); a box from (2.2, 3.2) to (5.8, 4.8) covers the pixels
    whose centres are inside: columns 2..5, rows 3..4. A mask starts at its integer left/top."""
    _image(tmp_path / "images", "img.png")
    xml = ('<annotations><version>1.1</version><image id="0" name="img.png" width="40" '
           'height="30"><box label="a" source="manual" occluded="0" xtl="2.20" ytl="3.20" '
           'xbr="5.80" ybr="4.80" z_order="0"/><mask label="b" source="manual" occluded="0" '
           'rle="1,2,3" left="30" top="20" width="3" height="2" z_order="0"/></image>'
           '</annotations>')
    (tmp_path / "annotations.xml").write_text(xml)
    label, _ = _imported(tmp_path, tmp_path / "annotations.xml", boxes="fill")
    rows, cols = np.nonzero(label == 0)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (3, 4, 2, 5)
    # rle 1,2,3 over a 3x2 box, row by row: off, on, on / off, off, off
    assert label[20, 30:33].tolist() == [255, 1, 1] and label[21, 30:33].tolist() == [255] * 3


def _studio_task(image, results):
    return [{"id": 1, "data": {"image": image}, "annotations": [{"id": 7, "result": results}]}]


def _studio_result(kind, value, width=40, height=30, id_="r1"):
    return {"id": id_, "type": kind, "value": value, "from_name": "tag", "to_name": "image",
            "original_width": width, "original_height": height, "image_rotation": 0}


def test_label_studio_percent_of_the_original_size(tmp_path):
    """Label Studio: x % of original_width; the keypoint's width is not geometry."""
    _image(tmp_path / "images", "img.png", width=200, height=100)
    results = [_studio_result("keypointlabels", {"x": 10.25, "y": 50.5, "width": 3.0,
                                                 "keypointlabels": ["a"]}, 200, 100)]
    export = tmp_path / "export.json"
    export.write_text(json.dumps(_studio_task("/data/upload/1/0a1b2c3d-img.png", results)))
    label, _ = _imported(tmp_path, export, point_radius=0)
    assert list(zip(*np.nonzero(label != 255))) == [(50, 20)]  # (50.5, 20.5) px


# ------------------------------------------------------------------------- bad exports: one line
def _one_line(excinfo, *parts):
    message = str(excinfo.value)
    assert "\n" not in message, message
    for part in parts:
        assert part in message, message


def test_malformed_json_and_xml(tmp_path):
    _image(tmp_path / "images", "img.png")
    (tmp_path / "broken.json").write_text('{"shapes": [')
    with pytest.raises(InputError) as e:
        import_annotations(tmp_path / "images", tmp_path / "broken.json", ["a"], tmp_path / "o",
                           format="labelme")
    _one_line(e, "broken.json", "not a readable JSON file")
    with pytest.raises(InputError) as e:
        import_annotations(tmp_path / "images", tmp_path / "broken.json", ["a"], tmp_path / "o",
                           format="labelstudio")
    _one_line(e, "broken.json", "not a readable JSON file")
    (tmp_path / "broken.xml").write_text("<annotations><image name='img.png'>")
    with pytest.raises(InputError) as e:
        import_annotations(tmp_path / "images", tmp_path / "broken.xml", ["a"], tmp_path / "o",
                           format="cvat")
    _one_line(e, "broken.xml", "not a readable XML file")
    assert not (tmp_path / "o").exists()


def test_unknown_label_names_the_file_and_the_shape(tmp_path):
    _image(tmp_path / "images", "img.png")
    export = _labelme(tmp_path / "images", "img.png", [_point("a", 1, 1), _point("cat", 2, 2)])
    with pytest.raises(InputError) as e:
        import_annotations(tmp_path / "images", export, ["a"], tmp_path / "o")
    _one_line(e, "img.json", "image img.png", "shape 1 (point 'cat')", "not in the class list")


def test_missing_image_and_unannotated_image(tmp_path):
    _image(tmp_path / "images", "img.png")
    _image(tmp_path / "images", "extra.png")
    export = _labelme(tmp_path / "images", "img.png", [_point("a", 1, 1)])
    report = import_annotations(tmp_path / "images", export, ["a"], tmp_path / "o")
    assert report.unannotated_images == [str(tmp_path / "images" / "extra.png")]
    assert any("1 of 2 images are not in the export" in w for w in report.warnings)
    _labelme(tmp_path / "images", "gone.png", [_point("a", 1, 1)])
    with pytest.raises(InputError) as e:
        import_annotations(tmp_path / "images", tmp_path / "images", ["a"], tmp_path / "o")
    _one_line(e, "gone.json", "names image 'gone.png'", "not under --images")


def test_out_of_range_coordinates(tmp_path):
    _image(tmp_path / "images", "img.png")
    export = _labelme(tmp_path / "images", "img.png", [_point("a", 1, 1), {
        "label": "b", "points": [[38, 10], [45, 10], [45, 20]], "shape_type": "polygon"}])
    label, report = _imported(tmp_path, export)
    assert any("shape 1 (polygon 'b') extends outside the 40x30 image" in w
               for w in report.warnings)
    assert (label == 1).any()
    export = _labelme(tmp_path / "images", "img.png", [_point("a", 400, 300)])
    with pytest.raises(InputError) as e:
        _imported(tmp_path, export)
    _one_line(e, "img.json", "shape 0 (point 'a')", "no pixel inside the 40x30 image")


def test_size_mismatch_and_bad_options(tmp_path):
    _image(tmp_path / "images", "img.png")
    export = _labelme(tmp_path / "images", "img.png", [_point("a", 1, 1)], width=80)
    with pytest.raises(InputError) as e:
        import_annotations(tmp_path / "images", export, ["a"], tmp_path / "o")
    _one_line(e, "img.json", "80x30 in the export", "is 40x30")
    with pytest.raises(InputError, match="overlap 'biggest'"):
        RasterOptions(overlap="biggest")


def test_an_image_annotated_twice(tmp_path):
    _image(tmp_path / "images", "img.png")
    _labelme(tmp_path / "images", "img.png", [_point("a", 1, 1)])
    (tmp_path / "images" / "copy").mkdir()
    _labelme(tmp_path / "images" / "copy", "../img.png", [_point("a", 2, 2)])
    with pytest.raises(InputError) as e:
        import_annotations(tmp_path / "images", tmp_path / "images", ["a"], tmp_path / "o")
    _one_line(e, "img.json: image img.png is annotated twice")
