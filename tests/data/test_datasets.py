"""Built-in VOC and Cityscapes registrations, the generic one, re-registration, and the check
tool."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from detectron2.data import DatasetCatalog, MetadataCatalog
from PIL import Image

from agmm_d2.data.datasets.generic import DatasetLayoutError

VOC_IDS = ["2007_000032", "2007_000033", "2008_000001"]
VAL_IDS = ["2007_000039"]
FRAMES = {"train": ["aachen/aachen_000000_000019", "bochum/bochum_000000_000313"],
          "val": ["frankfurt/frankfurt_000000_000294"]}
# Objects of each training image's VOC annotation XML, and the class ids they give (with 0).
XML_OBJECTS = {"2007_000032": ["aeroplane", "aeroplane", "person"], "2007_000033": ["tvmonitor"],
               "2008_000001": []}
XML_CLASSES = {"2007_000032": [0, 1, 15], "2007_000033": [0, 20], "2008_000001": [0]}


def _voc_xml(path: Path, objects):
    """A VOC Annotations XML with one <object> per name (a person gets a <part>, as in VOC)."""
    body = "".join(
        f"<object><name>{name}</name><pose>Left</pose><difficult>0</difficult>"
        f"<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>9</xmax><ymax>9</ymax></bndbox>"
        + ("<part><name>head</name><bndbox><xmin>2</xmin><ymin>2</ymin><xmax>4</xmax>"
           "<ymax>4</ymax></bndbox></part>" if name == "person" else "")
        + "</object>" for name in objects)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<annotation><folder>VOC2012</folder><filename>{path.stem}.jpg</filename>"
                    f"<size><width>50</width><height>40</height><depth>3</depth></size>"
                    f"<segmented>1</segmented>{body}</annotation>")


def _png(path: Path, array: np.ndarray, palette: bool = False):
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(array)
    if palette:
        image = image.convert("P")
        image.putpalette([v for i in range(256) for v in (i, 255 - i, 0)])
    image.save(path)


def _label(h, w, value, rng, k):
    label = np.full((h, w), value, np.uint8)
    label[rng.integers(h, size=5), rng.integers(w, size=5)] = rng.integers(k, size=5)
    return label


@pytest.fixture(scope="module")
def tiny_roots(tmp_path_factory):
    """A datasets root with VOC2012/ and cityscapes/ in the built-in layouts."""
    root = tmp_path_factory.mktemp("datasets")
    rng = np.random.default_rng(0)
    voc = root / "VOC2012"
    sets = voc / "ImageSets" / "Segmentation"
    sets.mkdir(parents=True)
    (sets / "train_aug.txt").write_text("".join(f"{i}\n" for i in VOC_IDS))
    (sets / "val.txt").write_text("".join(f"{i}\n" for i in VAL_IDS))
    for i, key in enumerate(VOC_IDS + VAL_IDS):
        h, w = 40 + i, 50
        _png(voc / "JPEGImages" / f"{key}.jpg", rng.integers(0, 255, (h, w, 3), dtype=np.uint8))
        dense = rng.integers(0, 21, (h, w), dtype=np.uint8)
        dense[0] = 255
        folder = "SegmentationClass" if key in VAL_IDS else "SegmentationClassAug"
        _png(voc / folder / f"{key}.png", dense, palette=True)
        if key in VOC_IDS:
            _png(voc / "point" / f"{key}.png", _label(h, w, 255, rng, 21))
            _png(voc / "scribble" / f"{key}.png", _label(h, w, 255, rng, 21))
            _voc_xml(voc / "Annotations" / f"{key}.xml", XML_OBJECTS[key])
    city = root / "cityscapes"
    for split, frames in FRAMES.items():
        for frame in frames:
            _png(city / "leftImg8bit" / split / f"{frame}_leftImg8bit.png",
                 rng.integers(0, 255, (32, 64, 3), dtype=np.uint8))
            _png(city / "gtFine" / split / f"{frame}_gtFine_labelTrainIds.png",
                 rng.integers(0, 19, (32, 64), dtype=np.uint8))
            if split == "train":
                for n in (20, 50, 100):
                    _png(city / f"{n}clicks" / split / f"{frame}_leftImg8bit.png",
                         _label(32, 64, 255, rng, 19))
    return root


@pytest.fixture
def builtins_at(tiny_roots):
    """Register the built-in names against the tiny root; restore them afterwards."""
    from agmm_d2.data import datasets_root, register_all

    register_all(str(tiny_roots))
    try:
        yield tiny_roots
    finally:
        register_all(datasets_root())


def test_import_registers_builtin_names_without_disk():
    import agmm_d2  # noqa: F401

    names = set(DatasetCatalog.list())
    for name in ["voc_2012_train_points", "voc_2012_train_scribbles", "voc_2012_train_dense",
                 "voc_2012_val_dense", "cityscapes_train_20clicks", "cityscapes_train_50clicks",
                 "cityscapes_train_100clicks", "cityscapes_val"]:
        assert name in names, name
    assert MetadataCatalog.get("voc_2012_val_dense").evaluator_type == "sem_seg"


def test_voc_builtins(builtins_at):
    from agmm_d2.data import VOC_CLASSES

    point = DatasetCatalog.get("voc_2012_train_points")
    assert [d["image_id"] for d in point] == VOC_IDS
    d = point[0]
    assert (
        Path(d["sparse_seg_file_name"]) == builtins_at / "VOC2012" / "point" / f"{VOC_IDS[0]}.png"
    )
    assert (d["height"], d["width"]) == (40, 50) and d["sparse_unlabeled_value"] == 255
    assert "scribble" in DatasetCatalog.get("voc_2012_train_scribbles")[1]["sparse_seg_file_name"]
    full = DatasetCatalog.get("voc_2012_train_dense")[2]
    assert full["sparse_seg_file_name"] == full["sem_seg_file_name"]
    assert "SegmentationClassAug" in full["sem_seg_file_name"]
    val = DatasetCatalog.get("voc_2012_val_dense")
    assert len(val) == 1 and "SegmentationClass/" in val[0]["sem_seg_file_name"]
    assert "sparse_seg_file_name" not in val[0]
    meta = MetadataCatalog.get("voc_2012_train_points")
    assert meta.stuff_classes == VOC_CLASSES and len(VOC_CLASSES) == 21
    assert meta.stuff_colors[1] == [128, 0, 0] and meta.stuff_colors[15] == [192, 128, 128]
    assert meta.ignore_label == 255 and meta.unlabeled_value == 255


def _dense_classes(path):
    return sorted(int(v) for v in np.unique(np.asarray(Image.open(path))) if v != 255)


def test_voc_training_sets_carry_image_classes_from_the_dense_labels(builtins_at):
    voc = builtins_at / "VOC2012"
    for kind in ("points", "scribbles", "dense"):
        dicts = DatasetCatalog.get(f"voc_2012_train_{kind}")
        assert [d["image_classes"] for d in dicts] == [
            _dense_classes(voc / "SegmentationClassAug" / f"{key}.png") for key in VOC_IDS], kind
        assert dicts[0]["image_classes"] != XML_CLASSES[VOC_IDS[0]]  # dense, not the XML
    assert "image_classes" not in DatasetCatalog.get("voc_2012_val_dense")[0]
    cache = voc / "SegmentationClassAug" / "image_classes.json"  # as voc_train_aug.py writes it
    try:
        cache.write_text(json.dumps({key: [0, i + 1] for i, key in enumerate(VOC_IDS)}))
        assert DatasetCatalog.get("voc_2012_train_points")[2]["image_classes"] == [0, 3]
        cache.write_text(json.dumps({VOC_IDS[0]: [0]}))  # a stale cache is an error, not a mix
        with pytest.raises(DatasetLayoutError, match="image_classes.json.*lack 2 of 3 images"):
            DatasetCatalog.get("voc_2012_train_scribbles")
    finally:
        cache.unlink()


@pytest.fixture
def voc_without_dense(tiny_roots, tmp_path):
    """A VOC2012 root with images, point labels, splits and Annotations, but no dense labels."""
    voc = tmp_path / "VOC2012"
    voc.mkdir()
    for sub in ("JPEGImages", "ImageSets"):
        (voc / sub).symlink_to(tiny_roots / "VOC2012" / sub)
    for sub in ("point", "Annotations"):
        shutil.copytree(tiny_roots / "VOC2012" / sub, voc / sub)
    yield voc
    for name in ("agmm_test_voc_xml", "agmm_test_voc_dense"):
        if name in DatasetCatalog.list():
            DatasetCatalog.remove(name)
            MetadataCatalog.remove(name)


def test_voc_image_classes_from_xml_json_or_none(voc_without_dense):
    from agmm_d2.data import register_voc_sparse
    from agmm_d2.data.checks.report import check_dataset

    voc = voc_without_dense
    load = lambda: {d["image_id"]: d.get("image_classes")  # noqa: E731
                    for d in DatasetCatalog.get("agmm_test_voc_xml")}
    register_voc_sparse("agmm_test_voc_xml", voc, kind="point")
    assert load() == XML_CLASSES  # background always, a person's <part> "head" is no class
    # the random point labels click classes the XML does not list: the checker sees it
    report = check_dataset("agmm_test_voc_xml")
    assert report["images_with_image_classes"] == 3
    assert report["warnings"]["sparse_class_not_in_image_classes"] >= 1
    assert "not in its image_classes" in report["examples"]["sparse_class_not_in_image_classes"][0]

    register_voc_sparse("agmm_test_voc_dense", voc, kind="point", image_classes="dense")
    with pytest.raises(DatasetLayoutError, match="SegmentationClassAug.*3 of 3 images.*no dense"):
        DatasetCatalog.get("agmm_test_voc_dense")

    xml = voc / "Annotations" / f"{VOC_IDS[1]}.xml"
    xml.write_text(xml.read_text().replace("tvmonitor", "dragon"))
    with pytest.raises(DatasetLayoutError, match=f"{VOC_IDS[1]}.xml: unknown class name 'dragon'"):
        load()
    xml.write_text("<annotation><object><name>cat</name>")  # truncated
    with pytest.raises(DatasetLayoutError, match=f"{VOC_IDS[1]}.xml: cannot read"):
        load()
    xml.unlink()  # an image without an XML: no source left, no image-level labels
    assert set(load().values()) == {None}

    table = voc / "point" / "image_classes.json"  # next to the sparse labels: read first
    table.write_text(json.dumps({key: [0, 5] for key in VOC_IDS}))
    assert load() == {key: [0, 5] for key in VOC_IDS}
    table.write_text('{"2007_000032": [0, 5], "2007_000033": "cat"}')
    with pytest.raises(
        DatasetLayoutError, match="point/image_classes.json: expected a JSON object"
    ):
        load()


def test_voc_registration_reads_nothing_until_used(tmp_path):
    from agmm_d2.data import register_voc_sparse

    try:
        register_voc_sparse("agmm_test_voc_nowhere", tmp_path / "nowhere", kind="scribble")
        with pytest.raises(DatasetLayoutError, match="nowhere"):
            DatasetCatalog.get("agmm_test_voc_nowhere")
    finally:
        DatasetCatalog.remove("agmm_test_voc_nowhere")
        MetadataCatalog.remove("agmm_test_voc_nowhere")


def test_cityscapes_builtins(builtins_at):
    from cityscapesscripts.helpers.labels import trainId2label

    from agmm_d2.data import CITYSCAPES_CLASSES

    for n in (20, 50, 100):
        dicts = DatasetCatalog.get(f"cityscapes_train_{n}clicks")
        assert [d["image_id"] for d in dicts] == FRAMES["train"]
        assert dicts[0]["sparse_seg_file_name"].endswith(
            f"{n}clicks/train/aachen/aachen_000000_000019_leftImg8bit.png")
    val = DatasetCatalog.get("cityscapes_val")
    assert val[0]["sem_seg_file_name"].endswith("frankfurt_000000_000294_gtFine_labelTrainIds.png")
    meta = MetadataCatalog.get("cityscapes_val")
    assert CITYSCAPES_CLASSES == [trainId2label[i].name for i in range(19)]
    assert meta.stuff_colors[0] == list(trainId2label[0].color)
    assert meta.evaluation_sliding_window["overlap"] == pytest.approx(2 / 3)


def test_seeded_clicks_folder_and_unlabeled_value(tiny_roots, tmp_path):
    from agmm_d2.data import register_cityscapes_clicks, register_voc_sparse

    city = tiny_roots / "cityscapes"
    try:
        (city / "50clicks_seed3").symlink_to(city / "50clicks")
        register_cityscapes_clicks("agmm_test_city", city, clicks=50, seed=3)
        assert "50clicks_seed3" in DatasetCatalog.get("agmm_test_city")[0]["sparse_seg_file_name"]
        register_voc_sparse(
            "agmm_test_voc21", tiny_roots / "VOC2012", kind="point", unlabeled_value=21
        )
        assert DatasetCatalog.get("agmm_test_voc21")[0]["sparse_unlabeled_value"] == 21
        assert MetadataCatalog.get("agmm_test_voc21").unlabeled_value == 21
        with pytest.raises(ValueError, match="kind"):
            register_voc_sparse("agmm_test_voc_bad", tiny_roots / "VOC2012", kind="boxes")
    finally:
        (city / "50clicks_seed3").unlink()
        for name in ("agmm_test_city", "agmm_test_voc21"):
            DatasetCatalog.remove(name)
            MetadataCatalog.remove(name)


def test_generic_registration_and_reregistration(tmp_path):
    from agmm_d2.data import register_sparse_sem_seg

    rng = np.random.default_rng(1)
    for key in ("a", "sub/b"):
        _png(tmp_path / "img" / f"{key}.jpg", rng.integers(0, 255, (12, 16, 3), dtype=np.uint8))
        _png(tmp_path / "clicks" / f"{key}.png", _label(12, 16, 3, rng, 3))
    (tmp_path / "split.txt").write_text("sub/b\n")
    try:
        register_sparse_sem_seg("agmm_test_generic", tmp_path / "img", tmp_path / "clicks",
                                classes=["x", "y", "z"], unlabeled_value=3)
        dicts = DatasetCatalog.get("agmm_test_generic")
        assert [d["image_id"] for d in dicts] == ["a", "sub/b"]
        assert dicts[1]["sparse_seg_file_name"].endswith("clicks/sub/b.png")
        assert MetadataCatalog.get("agmm_test_generic").stuff_classes == ["x", "y", "z"]
        # the same name again: the new entry replaces the old one, data and metadata
        register_sparse_sem_seg("agmm_test_generic", tmp_path / "img", tmp_path / "clicks",
                                classes=["p", "q", "r", "s"], split_file=tmp_path / "split.txt")
        assert [d["image_id"] for d in DatasetCatalog.get("agmm_test_generic")] == ["sub/b"]
        meta = MetadataCatalog.get("agmm_test_generic")
        assert meta.stuff_classes == ["p", "q", "r", "s"] and meta.unlabeled_value == 255
        assert DatasetCatalog.list().count("agmm_test_generic") == 1
    finally:
        DatasetCatalog.remove("agmm_test_generic")
        MetadataCatalog.remove("agmm_test_generic")


def test_mapper_reads_voc_palette_labels(builtins_at):
    from detectron2.config import get_cfg

    from agmm_d2 import add_agmm_config
    from agmm_d2.data import SparseSemSegDatasetMapper

    cfg = get_cfg()
    add_agmm_config(cfg)
    cfg.MODEL.SEM_SEG_HEAD.NUM_CLASSES = 21
    d = DatasetCatalog.get("voc_2012_train_dense")[0]
    out = SparseSemSegDatasetMapper(cfg, False)(d)
    dense = np.asarray(Image.open(d["sem_seg_file_name"]))  # palette indices = class ids
    assert np.array_equal(out["sparse_seg"].numpy(), dense)
    assert out["sparse_classes"].nonzero().ravel().tolist() == sorted(set(np.unique(dense)) - {255})


def test_check_reports_clean_and_broken_datasets(builtins_at):
    from agmm_d2.cli.check_dataset import main
    from agmm_d2.data.checks import check_dataset

    report = check_dataset("voc_2012_train_points")
    assert report["problems"] == {} and report["images"] == 3
    assert report["images_with_image_classes"] == 3
    assert 0 < report["sparse_annotated_share"] < 0.01
    assert main(["cityscapes_train_50clicks"]) == 0
    voc = builtins_at / "VOC2012"
    broken = voc / "point" / f"{VOC_IDS[1]}.png"
    saved = broken.read_bytes()
    try:
        label = np.full((10, 10), 255, np.uint8)
        label[0, 0] = 40
        _png(broken, label)
        report = check_dataset("voc_2012_train_points")
        assert report["problems"] == {"size_mismatch": 1, "bad_values": 1}
        assert str(broken) in report["examples"]["bad_values"][0]
        broken.unlink()
        assert check_dataset("voc_2012_train_points")["error"].count(VOC_IDS[1]) == 1
    finally:
        broken.write_bytes(saved)
