"""VOC preparation tools: points from the real JSON files, ScribbleSup XML, train_aug from SBD."""
import json
import math

import numpy as np
import pytest
from PIL import Image

from agmm_d2.data.label_io import read_label

N_SAMPLE = 50


def _blank_jpeg(path, width, height):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (width, height), (120, 110, 100)).save(path)


@pytest.fixture(scope="module")
def voc_points(shared_data):
    folder = shared_data / "voc_points"
    points = json.loads((folder / "voc_whats_the_point.json").read_text())
    background = json.loads((folder / "voc_whats_the_point_bg_from_scribbles.json").read_text())
    return folder, points, background


def test_render_points_matches_the_json(voc_points, tmp_path):
    from agmm_d2.data.public.voc_points import render_points

    folder, points, background = voc_points
    ids = sorted(points)[:: len(points) // N_SAMPLE][:N_SAMPLE]
    for key in ids:  # plausible VOC sizes that hold every click of the image
        clicks = points[key] + background.get(key, [])
        far_x = max([c["x"] for c in clicks], default=0)
        far_y = max([c["y"] for c in clicks], default=0)
        width = max(500, math.ceil(far_x) + 1)
        height = 375 if far_y < 375 else max(500, math.ceil(far_y) + 1)
        _blank_jpeg(tmp_path / "JPEGImages" / f"{key}.jpg", width, height)
    out = tmp_path / "point"
    stats = render_points(folder / "voc_whats_the_point.json", out, tmp_path / "JPEGImages",
                          folder / "voc_whats_the_point_bg_from_scribbles.json", ids=ids)
    assert stats == {"written": N_SAMPLE, "missing_image": 0, "clicks_dropped": 0}
    assert sorted(p.stem for p in out.glob("*.png")) == ids
    for key in ids:
        label = read_label(out / f"{key}.png")
        clicks = background.get(key, []) + points[key]  # drawing order: objects last
        assert label.shape == Image.open(tmp_path / "JPEGImages" / f"{key}.jpg").size[::-1]
        assert set(np.unique(label)) - {255} == {c["cls"] for c in clicks}
        centres = [(int(c["y"]), int(c["x"]), c["cls"]) for c in clicks]
        for i, (y, x, cls) in enumerate(centres):
            # the centre has the click's class unless a later click's disk covers it
            later = [c for yy, xx, c in centres[i + 1:] if (yy - y) ** 2 + (xx - x) ** 2 <= 1]
            assert label[y, x] == (later[-1] if later else cls), (key, x, y)
        # every annotated pixel lies in the radius-1 disk of a click of its class
        ys, xs = np.nonzero(label != 255)
        for y, x in zip(ys, xs):
            assert any((yy - y) ** 2 + (xx - x) ** 2 <= 1 and c == label[y, x]
                       for yy, xx, c in centres), (key, x, y)
        assert (label != 255).sum() <= 5 * len(clicks)  # a radius-1 disk is 5 pixels


def test_point_radius_and_out_of_image_clicks():
    from agmm_d2.data.public.voc_points import render_label

    clicks = [{"x": 5.7, "y": 2.2, "cls": 3}, {"x": 10.0, "y": 3.0, "cls": 4},
              {"x": 14.0, "y": 1.0, "cls": 5}]
    single = render_label(clicks, [{"x": 0, "y": 0, "cls": 0}], 6, 10, radius=0)
    assert single[2, 5] == 3 and single[3, 9] == 4 and single[0, 0] == 0  # x == width: last column
    assert (single != 255).sum() == 3  # the click at x=14 lies outside and is dropped
    disk = render_label(clicks[:1], [], 6, 10, radius=2)
    assert (disk == 3).sum() == 13


SCRIBBLE_XML = """<annotation>
  <filename>2007_000032.jpg</filename>
  <size><width>{w}</width><height>{h}</height></size>
  <polygon><tag>background</tag>
    <point><X>1</X><Y>1</Y></point><point><X>30</X><Y>1</Y></point></polygon>
  <polygon><tag>aeroplane</tag>
    <point><X>5</X><Y>10</Y></point><point><X>25</X><Y>10</Y></point>
    <point><X>25</X><Y>20</Y></point></polygon>
  <polygon><tag>tv/monitor</tag>
    <point><X>2</X><Y>25</Y></point><point><X>2</X><Y>29</Y></point></polygon>
</annotation>"""


def test_scribbles_from_scribblesup_xml(tmp_path):
    from agmm_d2.data.public.voc_scribbles import parse_scribble_xml, render_scribbles

    xml_dir = tmp_path / "xml"
    xml_dir.mkdir()
    (xml_dir / "2007_000032.xml").write_text(SCRIBBLE_XML.format(w=40, h=32))
    (xml_dir / "2007_000033.xml").write_text(
        SCRIBBLE_XML.format(w=40, h=32).replace("tv/monitor", "dragon")
    )
    size, scribbles = parse_scribble_xml(xml_dir / "2007_000032.xml")
    assert size == (32, 40) and [c for c, _ in scribbles] == [0, 1, 20]
    assert scribbles[1][1].tolist() == [[5, 10], [25, 10], [25, 20]]
    with pytest.raises(ValueError, match="2007_000033.xml.*dragon"):
        render_scribbles(xml_dir, tmp_path / "scribble")
    (xml_dir / "2007_000033.xml").unlink()
    _blank_jpeg(tmp_path / "JPEGImages" / "2007_000032.jpg", 48, 36)  # the JPEG's size wins
    stats = render_scribbles(xml_dir, tmp_path / "scribble", tmp_path / "JPEGImages")
    assert stats == {"written": 1, "no_size": 0}
    label = read_label(tmp_path / "scribble" / "2007_000032.png")
    assert label.shape == (36, 48)
    assert label[1, 15] == 0 and label[10, 15] == 1 and label[15, 25] == 1 and label[27, 2] == 20
    assert (
        (label[9:12, 10] == 1).all() and label[8, 10] == 255 and label[12, 10] == 255
    )  # 3 px wide
    assert set(np.unique(label)) == {0, 1, 20, 255}


def test_train_aug_union_minus_val(tmp_path):
    from scipy.io import savemat

    from agmm_d2.data.public.voc_train_aug import make_train_aug
    from agmm_d2.data.sparse_labels import write_label_png

    voc, sbd = tmp_path / "VOC2012", tmp_path / "sbd"
    sets = voc / "ImageSets" / "Segmentation"
    sets.mkdir(parents=True)
    (sets / "train.txt").write_text("v1\nv2\n")
    (sets / "val.txt").write_text("v3\ns3\n")
    (sbd / "cls").mkdir(parents=True)
    (sbd / "train.txt").write_text("s1\nv1\ns3\n")
    (sbd / "val.txt").write_text("s2\n")
    rng = np.random.default_rng(0)
    labels = {}
    for key in ("v1", "v2", "v3"):
        labels[key] = rng.integers(0, 21, (6, 7), dtype=np.uint8)
        labels[key][0, 0] = 255
        write_label_png(voc / "SegmentationClass" / f"{key}.png", labels[key], palette=True)
    for key in ("s1", "s2", "s3", "v1"):
        seg = rng.integers(0, 21, (5, 4), dtype=np.uint8)
        labels.setdefault(key, seg)
        savemat(
            sbd / "cls" / f"{key}.mat", {"GTcls": {"Segmentation": seg, "CategoriesPresent": [1]}}
        )
    stats = make_train_aug(voc, sbd)
    expected = ["s1", "s2", "v1", "v2"]
    assert (sets / "train_aug.txt").read_text().split() == expected
    assert stats == {"images": 4, "from_voc": 2, "from_sbd": 2}
    aug = voc / "SegmentationClassAug"
    assert sorted(p.stem for p in aug.glob("*.png")) == expected
    for key in expected:  # VOC's own label where it has one (v1), else SBD's
        assert np.array_equal(read_label(aug / f"{key}.png"), labels[key])
    assert Image.open(aug / "s1.png").mode == "P"
    image_classes = json.loads((aug / "image_classes.json").read_text())  # 255 is void
    assert image_classes == {
        k: sorted(set(np.unique(labels[k]).tolist()) - {255}) for k in expected
    }
    assert 255 in labels["v1"] and 0 in image_classes["v1"]


VOC_XML = """<annotation>
  <folder>VOC2012</folder><filename>{key}.jpg</filename>
  <size><width>500</width><height>375</height><depth>3</depth></size>
  <object><name>dog</name><pose>Left</pose><truncated>1</truncated><difficult>0</difficult>
    <bndbox><xmin>1</xmin><ymin>2</ymin><xmax>30</xmax><ymax>40</ymax></bndbox></object>
  <object><name> person
  </name><difficult>1</difficult>
    <bndbox><xmin>3</xmin><ymin>4</ymin><xmax>50</xmax><ymax>60</ymax></bndbox>
    <part><name>hand</name><bndbox><xmin>3</xmin><ymin>4</ymin><xmax>5</xmax><ymax>6</ymax></bndbox></part>
  </object>
  <object><name>{third}</name>
    <bndbox><xmin>1</xmin><ymin>1</ymin><xmax>9</xmax><ymax>9</ymax></bndbox></object>
</annotation>"""


def test_image_classes_from_voc_xml(tmp_path, capsys):
    from agmm_d2.cli.image_classes import main
    from agmm_d2.data.datasets.generic import DatasetLayoutError
    from agmm_d2.data.datasets.voc import voc_xml_classes
    from agmm_d2.data.sparse_labels.image_classes import xml_image_classes

    xml_dir = tmp_path / "Annotations"
    xml_dir.mkdir()
    (xml_dir / "2007_000032.xml").write_text(VOC_XML.format(key="2007_000032", third="dog"))
    (xml_dir / "2007_000033.xml").write_text(VOC_XML.format(key="2007_000033", third="tvmonitor"))
    # background always, each object's class once, parts (hand) are not objects
    assert voc_xml_classes(xml_dir / "2007_000032.xml") == [0, 12, 15]
    assert main(["--voc-xml", str(xml_dir), "--output", str(tmp_path / "point")]) == 0
    written = json.loads((tmp_path / "point" / "image_classes.json").read_text())
    assert written == {"2007_000032": [0, 12, 15], "2007_000033": [0, 12, 15, 20]}
    assert json.loads(capsys.readouterr().out)["images"] == 2
    (xml_dir / "2007_000033.xml").write_text(VOC_XML.format(key="2007_000033", third="tv/monitor"))
    # The tool reports the DatasetLayoutError as one line (exit status 2).
    assert main(["--voc-xml", str(xml_dir), "--output", str(tmp_path / "point")]) == 2
    error = capsys.readouterr().err
    assert "2007_000033.xml: unknown class name 'tv/monitor'" in error
    with pytest.raises(DatasetLayoutError, match="2007_000033.xml: unknown class name"):
        xml_image_classes(xml_dir)
    assert (
        json.loads((tmp_path / "point" / "image_classes.json").read_text()) == written
    )  # untouched
