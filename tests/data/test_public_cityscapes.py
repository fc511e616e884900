"""Cityscapes tools on the real frame: train ids from label ids, and N clicks per image."""
import json

import numpy as np
import pytest

from agmm_d2.data.label_io import read_label

FRAME = "frankfurt/frankfurt_000000_000294"


@pytest.fixture(scope="module")
def city(shared_data):
    root = shared_data / "cityscapes_sample"
    reference = read_label(root / "gtFine" / "val" / f"{FRAME}_gtFine_labelTrainIds.png")
    return root, reference


def test_train_ids_equal_the_frames_own_file(city, tmp_path):
    from agmm_d2.data.public.cityscapes import label_ids_to_train_ids, make_train_ids

    root, reference = city
    assert make_train_ids(root, "val", out_root=tmp_path) == 1
    ours = read_label(tmp_path / "gtFine" / "val" / f"{FRAME}_gtFine_labelTrainIds.png")
    ids = read_label(root / "gtFine" / "val" / f"{FRAME}_gtFine_labelIds.png")
    assert np.array_equal(ours, label_ids_to_train_ids(ids)) and ours.dtype == np.uint8
    # The sample's two files were downscaled separately, so 77 of 32,768 pixels on class
    # borders differ; each of those has the reference's train id within 2 px in ours.
    differ = ours != reference
    assert differ.mean() < 0.005
    padded = np.pad(ours, 2, constant_values=254)
    near = np.zeros_like(differ)
    for dy in range(5):
        for dx in range(5):
            near |= padded[dy:dy + ours.shape[0], dx:dx + ours.shape[1]] == reference
    assert near.all()
    assert set(np.unique(ours)) <= set(range(19)) | {255}


def test_train_id_table_comes_from_cityscapesscripts():
    from cityscapesscripts.helpers.labels import labels

    from agmm_d2.data.public.cityscapes import label_ids_to_train_ids

    ids = np.array([[lab.id for lab in labels if lab.id >= 0]])
    expected = [lab.trainId if 0 <= lab.trainId < 255 else 255 for lab in labels if lab.id >= 0]
    assert label_ids_to_train_ids(ids).ravel().tolist() == expected


@pytest.mark.parametrize("n", [20, 50, 100])
def test_clicks_land_on_pixels_of_their_class(city, tmp_path, n):
    from agmm_d2.data.public.cityscapes import make_clicks

    root, reference = city
    result = make_clicks(root, n, seed=0, split="val", out_root=tmp_path, alias=True)
    out = tmp_path / f"{n}clicks_seed0" / "val" / f"{FRAME}_leftImg8bit.png"
    assert result == {"folder": str(tmp_path / f"{n}clicks_seed0"), "images": 1, "clicks": n}
    clicks = read_label(out)
    marked = clicks != 255
    assert marked.sum() == n and clicks.shape == reference.shape
    assert np.array_equal(clicks[marked], reference[marked])  # the frame's own train ids
    image_classes = json.loads((out.parents[1] / "image_classes.json").read_text())
    assert image_classes == {FRAME: sorted(set(np.unique(reference).tolist()) - {255})}
    assert len(image_classes[FRAME]) > 5
    assert (tmp_path / f"{n}clicks" / "val" / out.parent.name / out.name).is_file()  # the alias
    relative = out.relative_to(tmp_path / f"{n}clicks_seed0")
    make_clicks(root, n, seed=0, split="val", out_root=tmp_path / "again")
    assert np.array_equal(read_label(tmp_path / "again" / f"{n}clicks_seed0" / relative), clicks)
    make_clicks(root, n, seed=1, split="val", out_root=tmp_path)
    assert not np.array_equal(read_label(tmp_path / f"{n}clicks_seed1" / relative), clicks)


def test_clicks_folder_is_registered_and_checked(city, tmp_path):
    from detectron2.data import DatasetCatalog, MetadataCatalog

    from agmm_d2.data import register_cityscapes_clicks
    from agmm_d2.data.checks.report import check_dataset
    from agmm_d2.data.public.cityscapes import make_clicks

    root, _ = city
    make_clicks(root, 50, seed=0, split="val", out_root=tmp_path)
    (tmp_path / "leftImg8bit").symlink_to(root / "leftImg8bit")
    try:
        register_cityscapes_clicks("agmm_test_city50", tmp_path, clicks=50, split="val", seed=0)
        d = DatasetCatalog.get("agmm_test_city50")[0]  # image_classes.json read by "auto"
        assert d["image_classes"] == sorted(set(np.unique(read_label(
            root / "gtFine" / "val" / f"{FRAME}_gtFine_labelTrainIds.png")).tolist()) - {255})
        report = check_dataset("agmm_test_city50")
        assert report["problems"] == {} and report["images"] == 1
        assert report["images_with_image_classes"] == 1
        assert report["sparse_annotated_share"] == pytest.approx(50 / (256 * 128))
    finally:
        DatasetCatalog.remove("agmm_test_city50")
        MetadataCatalog.remove("agmm_test_city50")
