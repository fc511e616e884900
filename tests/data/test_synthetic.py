"""The package imports, detectron2's DeepLab project imports, and the synthetic data is sound."""
import hashlib
from pathlib import Path

import cv2
import numpy as np
import pytest


def test_import_package_and_deeplab_project():
    from detectron2.config import get_cfg
    from detectron2.data import DatasetCatalog
    from detectron2.projects.deeplab import add_deeplab_config  # noqa: F401

    import agmm_d2

    cfg = get_cfg()
    agmm_d2.add_agmm_config(cfg)
    assert cfg.MODEL.AGMM.ENABLED is True
    assert "synthetic_train_points" in DatasetCatalog.list()
    assert "synthetic_val" in DatasetCatalog.list()


def _digest(folder: Path) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_generator_is_deterministic(tmp_path):
    from agmm_d2.data.synthetic import generate

    a = generate(tmp_path / "a", seed=7, n_train=4, n_val=2, n_test=1, size=48)
    b = generate(tmp_path / "b", seed=7, n_train=4, n_val=2, n_test=1, size=48)
    c = generate(tmp_path / "c", seed=8, n_train=4, n_val=2, n_test=1, size=48)
    assert _digest(a) == _digest(b)
    # train: image, dense, 4 sparse kinds; val and test: image, dense; the .complete stamp
    assert len(_digest(a)) == 4 * 6 + 2 * 2 + 1 * 2 + 1
    assert _digest(a) != _digest(c)


def test_generator_is_idempotent_and_atomic(tmp_path):
    from agmm_d2.data.synthetic import generate

    out = generate(tmp_path, seed=1, n_train=2, n_val=1, n_test=0, size=32)
    marker = out / "images" / "train" / "0000.png"
    mtime = marker.stat().st_mtime_ns
    generate(tmp_path, seed=1, n_train=2, n_val=1, n_test=0, size=32)
    assert marker.stat().st_mtime_ns == mtime  # kept, not rewritten
    assert [p.name for p in tmp_path.iterdir()] == ["agmm_synthetic"]  # no temporary left


@pytest.mark.parametrize("kind", ["point", "scribble", "20clicks_seed0", "5clicks_seed0"])
def test_sparse_labels_agree_with_dense(tiny_synthetic, kind):
    base = tiny_synthetic / "agmm_synthetic"
    annotated = 0
    for sparse_file in sorted((base / kind / "train").glob("*.png")):
        sparse = cv2.imread(str(sparse_file), cv2.IMREAD_UNCHANGED)
        dense = cv2.imread(str(base / "dense" / "train" / sparse_file.name), cv2.IMREAD_UNCHANGED)
        assert sparse.shape == dense.shape and sparse.ndim == 2
        marked = sparse != 255
        assert np.array_equal(sparse[marked], dense[marked])
        annotated += marked.sum()
    assert annotated > 0


def test_random_clicks_are_single_pixels(tiny_synthetic):
    base = tiny_synthetic / "agmm_synthetic"
    for kind, n in (("20clicks_seed0", 20), ("5clicks_seed0", 5)):
        for sparse_file in sorted((base / kind / "train").glob("*.png")):
            sparse = cv2.imread(str(sparse_file), cv2.IMREAD_UNCHANGED)
            assert 0 < (sparse != 255).sum() <= n, sparse_file


def test_every_region_gets_a_point_and_a_scribble(tiny_synthetic):
    from scipy import ndimage

    base = tiny_synthetic / "agmm_synthetic"
    for dense_file in sorted((base / "dense" / "train").glob("*.png")):
        dense = cv2.imread(str(dense_file), cv2.IMREAD_UNCHANGED)
        point = cv2.imread(str(base / "point" / "train" / dense_file.name), cv2.IMREAD_UNCHANGED)
        for cls in np.unique(dense):
            regions, n = ndimage.label(dense == cls, structure=np.ones((3, 3)))
            for i in range(1, n + 1):
                assert (point[regions == i] == cls).any(), (
                    f"{dense_file.name}: region of {cls} unclicked"
                )


def test_registered_synthetic_dicts(tiny_synthetic):
    from detectron2.data import DatasetCatalog, MetadataCatalog

    from agmm_d2.data import register_synthetic
    from agmm_d2.data.synthetic import CLASSES

    register_synthetic(tiny_synthetic)
    try:
        dicts = DatasetCatalog.get("synthetic_train_scribbles")
        assert len(dicts) == 12
        d = dicts[0]
        assert d["height"] == d["width"] == 64
        assert Path(d["sparse_seg_file_name"]).parent.name == "train"
        assert "scribble" in d["sparse_seg_file_name"] and "dense" in d["sem_seg_file_name"]
        assert len(DatasetCatalog.get("synthetic_val")) == 6
        assert len(DatasetCatalog.get("synthetic_test")) == 3
        assert MetadataCatalog.get("synthetic_test").stuff_classes == CLASSES
        meta = MetadataCatalog.get("synthetic_val")
        assert meta.stuff_classes == CLASSES and meta.evaluator_type == "sem_seg"
        assert meta.ignore_label == 255 and len(meta.stuff_colors) == len(CLASSES)
    finally:
        from agmm_d2.data.datasets import datasets_root
        register_synthetic(datasets_root())


def test_missing_dataset_root_is_one_clear_error(tmp_path):
    from detectron2.data import DatasetCatalog, MetadataCatalog

    from agmm_d2.data import DatasetLayoutError, register_sparse_sem_seg

    missing = tmp_path / "nowhere" / "images"
    register_sparse_sem_seg("agmm_test_missing", missing, tmp_path, classes=["a", "b"])
    try:
        with pytest.raises(
            DatasetLayoutError,
            match=str(missing).replace("\\", "\\\\") + ".*does not exist.*images",
        ):
            DatasetCatalog.get("agmm_test_missing")
    finally:
        DatasetCatalog.remove("agmm_test_missing")
        MetadataCatalog.remove("agmm_test_missing")
