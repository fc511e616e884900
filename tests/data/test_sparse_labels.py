"""Making sparse labels from any dense folder (agmm_d2.data.sparse_labels): clicks, scribbles,
image_classes.json, and their tools."""

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from agmm_d2.data.label_io import read_label
from agmm_d2.data.sparse_labels import write_label_png

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dense_dir(tmp_path_factory):
    """Three 40x48 dense labels (classes 0..3, a void border of 255) in nested folders."""
    root = tmp_path_factory.mktemp("dense")
    for i, key in enumerate(["a", "b", "sub/c"]):
        dense = np.zeros((40, 48), np.uint8)
        dense[5:20, 5:25] = 1
        dense[25:35, 10 + i:40] = 2
        dense[2:8, 35:45] = 3
        dense[:, :2] = 255
        write_label_png(root / f"{key}.png", dense)
    return root


def _pairs(out, dense_dir):
    for path in sorted(dense_dir.rglob("*.png")):
        yield read_label(path), read_label(out / path.relative_to(dense_dir))


def _expected_classes(dense_dir, void):
    """{key: classes of the dense label, void values excluded}, by np.unique."""
    return {
        str(p.relative_to(dense_dir))[:-4]: sorted(
            set(np.unique(read_label(p)).tolist()) - set(void)
        )
        for p in dense_dir.rglob("*.png")
    }


def _image_classes(out):
    return json.loads((out / "image_classes.json").read_text())


def test_n_clicks_per_image(dense_dir, tmp_path):
    from agmm_d2.data.sparse_labels import make_clicks

    out = make_clicks(dense_dir, tmp_path, clicks=7, seed=0, ignore=(3,))
    assert out.name == "7clicks_seed0"
    for dense, sparse in _pairs(out, dense_dir):
        marked = sparse != 255
        assert marked.sum() == 7 and np.array_equal(sparse[marked], dense[marked])
        assert not np.isin(dense[marked], [3, 255]).any()  # --ignore values never clicked
    expected = _expected_classes(dense_dir, (3, 255))  # --ignore values are void, not classes
    assert _image_classes(out) == expected and expected["sub/c"] == [0, 1, 2]
    assert [p.name for p in tmp_path.iterdir()] == ["7clicks_seed0"]  # no temporary folder left
    again = make_clicks(dense_dir, tmp_path / "again", clicks=7, seed=0, ignore=(3,))
    for (_, first), (_, second) in zip(_pairs(out, dense_dir), _pairs(again, dense_dir)):
        assert np.array_equal(first, second)  # same seed, same clicks
    with pytest.raises(FileExistsError, match="7clicks_seed0"):
        make_clicks(dense_dir, tmp_path, clicks=7, seed=0)


def test_k_clicks_per_region(dense_dir, tmp_path):
    from agmm_d2.data.sparse_labels import make_clicks

    out = make_clicks(dense_dir, tmp_path, per_region=2, seed=1, radius=1)
    assert out.name == "2clicks_per_region_r1_seed1"
    assert _image_classes(out) == _expected_classes(dense_dir, (255,))
    for dense, sparse in _pairs(out, dense_dir):
        marked = sparse != 255
        assert np.array_equal(sparse[marked], dense[marked])
        for cls in (0, 1, 2, 3):
            regions, n = ndimage.label(dense == cls, structure=np.ones((3, 3)))
            assert all((sparse[regions == r] == cls).any() for r in range(1, n + 1))


def test_scribbles(dense_dir, tmp_path):
    from agmm_d2.data.sparse_labels import make_scribbles

    out = make_scribbles(dense_dir, tmp_path, width=3, ignore=(0,))
    assert out.name == "scribbles_w3"
    for dense, sparse in _pairs(out, dense_dir):
        marked = sparse != 255
        assert np.array_equal(sparse[marked], dense[marked])
        assert set(np.unique(sparse[marked])) == {1, 2, 3}  # 0 ignored, 255 void
        assert 0 < marked.mean() < 0.3
    assert _image_classes(out) == _expected_classes(dense_dir, (0, 255))


def test_generated_image_classes_are_registered_and_checked(dense_dir, tmp_path):
    from detectron2.data import DatasetCatalog, MetadataCatalog

    from agmm_d2.data import register_sparse_sem_seg
    from agmm_d2.data.checks.report import check_dataset
    from agmm_d2.data.sparse_labels import make_clicks

    out = make_clicks(dense_dir, tmp_path, clicks=5, seed=2)
    for key in _expected_classes(dense_dir, ()):
        write_label_png(tmp_path / "img" / f"{key}.png", np.zeros((40, 48), np.uint8))
    try:  # "auto", the default, reads image_classes.json next to the sparse labels
        register_sparse_sem_seg("agmm_test_gen_clicks", tmp_path / "img", out, image_ext=".png",
                                classes=["a", "b", "c", "d"])
        dicts = DatasetCatalog.get("agmm_test_gen_clicks")
        assert {d["image_id"]: d["image_classes"] for d in dicts} == _expected_classes(
            dense_dir, (255,)
        )
        report = check_dataset("agmm_test_gen_clicks")
        assert report["problems"] == {} and report["images_with_image_classes"] == 3
        (out / "image_classes.json").write_text('{"a": [0, 1], "b": [0, 9], "sub/c": [0]}')
        report = check_dataset("agmm_test_gen_clicks")
        assert report["problems"]["image_classes_out_of_range"] == 1
        assert report["warnings"]["sparse_class_not_in_image_classes"] >= 1
    finally:
        DatasetCatalog.remove("agmm_test_gen_clicks")
        MetadataCatalog.remove("agmm_test_gen_clicks")


def test_image_classes_tool_on_a_dense_folder(dense_dir, tmp_path, capsys):
    from agmm_d2.cli.image_classes import main

    main(["--dense", str(dense_dir), "--ignore", "0,255", "--output", str(tmp_path / "clicks")])
    assert _image_classes(tmp_path / "clicks") == _expected_classes(dense_dir, (0, 255))
    assert json.loads(capsys.readouterr().out)["images"] == 3
    with pytest.raises(SystemExit):
        main(["--voc-xml", str(tmp_path)])  # --voc-xml needs --output
