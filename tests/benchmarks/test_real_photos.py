"""IDD-Lite's registration on a tiny tree of its layout (the real dataset is never needed), and
benchmarks/real_photos.py's plan, sparse labels, table and label-budget figure."""
import json
from pathlib import Path

import numpy as np
import pytest
from detectron2.data import DatasetCatalog, MetadataCatalog
from PIL import Image

from agmm_d2.data import datasets_root
from agmm_d2.data.datasets.idd_lite import IDD_LITE_CLASSES, register_all_idd_lite

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def real_photos():
    from agmm_benchmarks import real_photos as module

    return module


@pytest.fixture
def idd_tree(tmp_path):
    """<tmp>/idd20k_lite with IDD-Lite's layout: 3 train and 2 val images in sub-folders."""
    root = tmp_path / "idd20k_lite"
    rng = np.random.default_rng(0)
    for split, keys in (("train", ["0/001", "0/002", "7/003"]), ("val", ["1/004", "1/005"])):
        for key in keys:
            image = root / "leftImg8bit" / split / f"{key}_image.jpg"
            label = root / "gtFine" / split / f"{key}_label.png"
            image.parent.mkdir(parents=True, exist_ok=True)
            label.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)).save(image)
            dense = rng.integers(0, 7, (24, 32)).astype(np.uint8)
            dense[0, :4] = 255
            Image.fromarray(dense).save(label)
    return root


def test_idd_lite_is_registered_by_the_generic_pairing(idd_tree, real_photos):
    real_photos.make_sparse_labels(idd_tree, ["20clicks", "points"])
    register_all_idd_lite(idd_tree.parent)
    try:
        val = DatasetCatalog.get("idd_lite_val")
        assert [d["image_id"] for d in val] == ["1/004", "1/005"]
        assert val[0]["sem_seg_file_name"].endswith("gtFine/val/1/004_label.png")
        train = DatasetCatalog.get("idd_lite_train_20clicks")
        assert [d["image_id"] for d in train] == ["0/001", "0/002", "7/003"]
        assert train[0]["sparse_seg_file_name"].endswith("sparse/20clicks_seed0/0/001_label.png")
        dense = np.asarray(Image.open(train[0]["sem_seg_file_name"]))
        assert train[0]["image_classes"] == sorted(set(np.unique(dense).tolist()) - {255})
        clicks = np.asarray(Image.open(train[0]["sparse_seg_file_name"]))
        assert (clicks != 255).sum() == 20 and np.all(clicks[clicks != 255] == dense[clicks != 255])
        assert DatasetCatalog.get("idd_lite_train_dense")[2]["image_classes"]
        assert MetadataCatalog.get("idd_lite_val").stuff_classes == IDD_LITE_CLASSES
    finally:  # the built-in entries again (registering replaces an entry of the same name)
        register_all_idd_lite(datasets_root())
    # Made once: a second call keeps the folders.
    stamp = (idd_tree / "sparse" / "20clicks_seed0" / "image_classes.json").stat().st_mtime_ns
    real_photos.make_sparse_labels(idd_tree, ["20clicks"])
    assert (idd_tree / "sparse" / "20clicks_seed0" / "image_classes.json").stat().st_mtime_ns \
        == stamp


def test_plan_runs_every_configuration_seed_by_seed(real_photos):
    runs, keys = real_photos.plan([0, 1], 50, curve=False)
    per_seed = 1 + len(real_photos.LABEL_TYPES) * len(real_photos.METHODS)
    assert len(runs) == 2 * per_seed and len(real_photos.METHODS) == 7
    assert keys[:per_seed] == [(real_photos.DENSE, "dense")] + [
        (m, label) for label in real_photos.LABEL_TYPES for m in real_photos.METHODS]
    for name, label, config, overrides in runs:
        assert (REPO / config).is_file(), config
        assert overrides[-4:-2] == ["SEED", label.split("seed ")[1]] and overrides[-1] == "50"
    assert len({name for name, *_ in runs}) == len(runs)
    curve, ckeys = real_photos.plan([0], None, curve=True)
    assert ("partial CE", "5 clicks") in ckeys and ("AGMM, preset", "100 clicks") in ckeys
    # The curve's 20-click runs are the table's: the same names, so one output folder shares them.
    table_names = {name for name, *_ in real_photos.plan([0], None, curve=False)[0]}
    assert {n for n, *_ in curve if "20_clicks" in n or "dense" in n} <= table_names


def test_plan_selects_rows_and_label_types_with_the_full_tables_names(real_photos):
    full = real_photos.plan([0], None, curve=False)
    rows = [real_photos.METHOD_KEYS[k] for k in ("baseline", "robust_balanced")]
    part = real_photos.plan([0], None, curve=False, methods=rows, labels=["points"])
    assert part[1] == [("partial CE", "points"), ("AGMM preset, class-balanced", "points")]
    # The same run names as the full table's: a later full run keeps these runs.
    assert {r[0] for r in part[0]} <= {r[0] for r in full[0]}
    assert set(real_photos.METHOD_KEYS.values()) == set(real_photos.METHODS) | {real_photos.DENSE}
    with_dense = real_photos.plan([0], None, curve=False, methods=[real_photos.DENSE])
    assert with_dense[1] == [(real_photos.DENSE, "dense")]
    # The default table: its five rows for each label type, no dense run.
    default = [real_photos.METHOD_KEYS[k] for k in real_photos.DEFAULT_METHODS]
    runs, keys = real_photos.plan([0, 1, 2], None, curve=False, methods=default)
    assert len(runs) == 45 and {row for row, _ in keys} == set(default)
    assert {"partial CE", "AGMM, released"} <= set(default)


def test_table_and_figure(real_photos, tmp_path):
    results = {("partial CE", "20 clicks"): [40.0, 41.0, 42.0],
               ("AGMM, preset", "20 clicks"): [43.0, 42.0, 45.0],
               (real_photos.DENSE, "dense"): [50.0, 51.0, 52.0]}
    lowest = {key: 1.5 for key in results}
    text = real_photos.table(results, lowest, ["20 clicks", "dense"],
                             ["partial CE", "AGMM, preset", real_photos.DENSE])
    lines = text.splitlines()
    assert lines[2] == "| 20 clicks | partial CE | 41.0 ± 1.0 | 40.0, 41.0, 42.0 |  | 1.5 |"
    assert (
        lines[3]
        == "| 20 clicks | AGMM, preset | 43.3 ± 1.5 | 43.0, 42.0, 45.0 | +2.3 (3/3) | 1.5 |"
    )
    curve = {(m, f"{c} clicks"): [30.0 + c / 10, 31.0 + c / 10] for c in real_photos.CURVE_CLICKS
             for m in real_photos.CURVE_METHODS}
    real_photos.plot_curve(curve, [50.0, 52.0], tmp_path / "curve.png")
    assert Image.open(tmp_path / "curve.png").size[0] > 300


def test_class_ious_read_the_last_evaluation(real_photos, tmp_path):
    records = [{"iteration": 9, "sem_seg/mIoU": 1.0, **{f"sem_seg/IoU-{c}": 0.0
                                                        for c in IDD_LITE_CLASSES}},
               {"iteration": 19, "sem_seg/mIoU": 2.0, **{f"sem_seg/IoU-{c}": i + 1.0
                                                         for i, c in enumerate(IDD_LITE_CLASSES)}}]
    (tmp_path / "metrics.json").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    assert real_photos.class_ious(tmp_path)["sky"] == 7.0


def test_class_table_counts_the_runs_that_never_learn_a_class(real_photos):
    def run(value, zero_class=None):
        return {c: 0.0 if c == zero_class else value for c in IDD_LITE_CLASSES}

    per_class = {("partial CE", "20 clicks"): [run(40.0, "living things"), run(50.0)],
                 ("AGMM, preset", "20 clicks"): [run(30.0), run(36.0)]}
    lines = real_photos.class_table(per_class, ["20 clicks"],
                                    ["partial CE", "AGMM, preset"]).splitlines()
    assert lines[0].startswith("| labels | training | drivable | non-drivable | living |")
    cells = [c.strip() for c in lines[2].strip("|").split("|")]
    assert cells[2:5] == ["45.0", "45.0", "25.0 (1x 0)"]
    assert [c.strip() for c in lines[3].strip("|").split("|")][2:] == ["33.0"] * 7
