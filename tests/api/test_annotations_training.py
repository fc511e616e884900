"""From an annotation export alone to a model: register_annotations (once, again when the
export changes), the import command, the evaluator over annotated pixels, training with no
test set, and the whole path: train, evaluate on held-out annotated pixels, predict a folder."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from detectron2.data import DatasetCatalog, MetadataCatalog
from PIL import Image

from agmm_d2.api import build_config, evaluate, predict_folder, train
from agmm_d2.data import register_sparse_sem_seg
from agmm_d2.data.annotations import register_annotations, write_demo_labelme_export
from agmm_d2.data.synthetic import CLASSES
from agmm_d2.evaluation import SparseSemSegEvaluator, annotated_pixel_metrics
from agmm_d2.utils.errors import InputError

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "configs" / "synthetic/20clicks_released.yaml"
TINY = {"SOLVER.IMS_PER_BATCH": 4, "INPUT.CROP.SIZE": (64, 64), "DATALOADER.NUM_WORKERS": 0,
        "MODEL.RESNETS.WIDTH_PER_GROUP": 4, "MODEL.RESNETS.RES2_OUT_CHANNELS": 16,
        "MODEL.RESNETS.STEM_OUT_CHANNELS": 8, "SOLVER.MAX_ITER": 3}


def _forget(*names):
    for name in names:
        if name in DatasetCatalog.list():
            DatasetCatalog.remove(name)
            MetadataCatalog.remove(name)


def test_register_imports_once_and_again_when_the_export_changes(tmp_path):
    photos = write_demo_labelme_export(tmp_path / "photos", images=6, size=32, clicks=5)
    report = tmp_path / "photos_sparse" / "import.json"
    names = register_annotations("ann", photos, photos, CLASSES, holdout=0.34)
    assert names == ["ann_train", "ann_val"]
    assert len(DatasetCatalog.get("ann_train")) == 4 and len(DatasetCatalog.get("ann_val")) == 2
    assert MetadataCatalog.get("ann_val").evaluator_type == "sparse_sem_seg"
    first = report.stat().st_mtime_ns
    register_annotations("ann", photos, photos, CLASSES, holdout=0.34)
    assert report.stat().st_mtime_ns == first  # nothing changed: not imported again
    register_annotations("ann", photos, photos, CLASSES, holdout=0.34, point_radius=0)
    assert report.stat().st_mtime_ns != first  # an option changed
    second = report.stat().st_mtime_ns
    data = json.loads((photos / "photo_000.json").read_text())
    data["shapes"] = data["shapes"][:1]
    (photos / "photo_000.json").write_text(json.dumps(data))
    register_annotations("ann", photos, photos, CLASSES, holdout=0.34, point_radius=0)
    assert report.stat().st_mtime_ns != second  # the export changed
    label = np.asarray(Image.open(tmp_path / "photos_sparse" / "photo_000.png"))
    assert (label != 255).sum() == 1
    _forget(*names)


@pytest.mark.slow
def test_import_command(tmp_path):
    photos = write_demo_labelme_export(tmp_path / "photos", images=3, size=32, clicks=5)
    command = [sys.executable, str(REPO / "datasets_prep" / "import_annotations.py"),
               "--format", "labelme", "--images", str(photos), "--export", str(photos),
               "--classes", ",".join(CLASSES)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["datasets"] == {"annotations": 3} and summary["shapes"]["point"] == 15
    (tmp_path / "x.csv").write_text("a,b\n")
    done = subprocess.run(command[:2] + ["--images", str(photos), "--export",
                                         str(tmp_path / "x.csv"), "--classes", "a"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines == [f"import_annotations.py: error: --export {tmp_path / 'x.csv'}: cannot tell "
                     "its format (none of ['labelme', 'cvat', 'labelstudio'] fits); pass "
                     "--format / format="], done.stderr


def test_annotated_pixel_metrics_against_a_plain_count():
    rng = np.random.default_rng(0)
    labels, predictions = rng.integers(0, 4, 500), rng.integers(0, 4, 500)
    labels[labels == 3] = 2  # class 3 is never annotated: no IoU, out of the mean
    confusion = np.zeros((4, 4), np.int64)
    np.add.at(confusion, (labels, predictions), 1)
    metrics = annotated_pixel_metrics(confusion, ["a", "b", "c", "d"])
    ious = []
    for c in range(3):
        inter = np.sum((labels == c) & (predictions == c))
        union = np.sum((labels == c) | (predictions == c))
        ious.append(100 * inter / union)
        assert metrics[f"IoU-{'abc'[c]}"] == pytest.approx(ious[-1])
        assert metrics[f"annotated_pixels-{'abc'[c]}"] == np.sum(labels == c)
    assert np.isnan(metrics["IoU-d"]) and metrics["annotated_pixels-d"] == 0
    assert metrics["mIoU_annotated_pixels"] == pytest.approx(np.mean(ious))
    assert metrics["pixel_accuracy_annotated_pixels"] == \
        pytest.approx(100 * np.mean(labels == predictions))


def test_sparse_evaluator_counts_annotated_pixels_only(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "sparse").mkdir()
    label = np.full((4, 5), 255, np.uint8)
    label[0, :3] = [0, 1, 1]
    Image.fromarray(np.zeros((4, 5, 3), np.uint8)).save(tmp_path / "images" / "a.png")
    Image.fromarray(label).save(tmp_path / "sparse" / "a.png")
    register_sparse_sem_seg("sparse_eval_test", tmp_path / "images", tmp_path / "sparse",
                            classes=["x", "y"], image_ext=".png")
    evaluator = SparseSemSegEvaluator("sparse_eval_test", distributed=False,
                                      output_dir=str(tmp_path / "out"))
    evaluator.reset()
    scores = torch.zeros(2, 4, 5)
    scores[1] = 1.0  # predicts y everywhere: right on 2 of the 3 annotated pixels
    evaluator.process([{"file_name": str(tmp_path / "images" / "a.png")}], [{"sem_seg": scores}])
    metrics = evaluator.evaluate()["sparse_sem_seg"]
    assert metrics["annotated_pixels"] == 3 and metrics["annotated_pixels-y"] == 2
    assert metrics["pixel_accuracy_annotated_pixels"] == pytest.approx(200 / 3)
    assert metrics["mIoU_annotated_pixels"] == pytest.approx((0 + 200 / 3) / 2)
    assert (tmp_path / "out" / "sparse_sem_seg_evaluation.pth").is_file()
    _forget("sparse_eval_test")


@pytest.fixture
def annotated_photos(tmp_path):
    """A folder of 16 images with a LabelMe file each (clicks and a scribble), registered as
    photos_train (12) and photos_val (4); no dense label is written anywhere."""
    photos = write_demo_labelme_export(tmp_path / "photos", images=16, size=64)
    names = register_annotations("photos", photos, photos, CLASSES, holdout=0.25)
    for png in tmp_path.rglob("*.png"):
        with Image.open(png) as im:
            if im.mode == "L":  # a label: sparse, from the import
                assert png.parent.name == "photos_sparse"
                assert (np.asarray(im) == 255).mean() > 0.9
    yield photos
    _forget(*names)


@pytest.mark.slow
def test_train_from_an_export_evaluate_on_annotated_pixels_and_predict(annotated_photos,
                                                                       tmp_path):
    cfg = build_config(DEMO, {**TINY, "DATASETS.TRAIN": ("photos_train",),
                              "DATASETS.TEST": ("photos_val",),
                              "OUTPUT_DIR": str(tmp_path / "run")})
    train(cfg, progress=False)
    log = (tmp_path / "run" / "log.txt").read_text()
    assert "photos_val, annotated pixels only (sparse labels; not dense mIoU): mIoU" in log
    metrics = evaluate(cfg, progress=False)["sparse_sem_seg"]
    val_labels = [np.asarray(Image.open(r["sparse_seg_file_name"]))
                  for r in DatasetCatalog.get("photos_val")]
    assert metrics["annotated_pixels"] == sum(int((v != 255).sum()) for v in val_labels)
    assert 0 <= metrics["mIoU_annotated_pixels"] <= 100
    report = predict_folder(cfg, str(annotated_photos / "*.png"), tmp_path / "predicted",
                            progress=False)
    assert len(report.written) == 2 * 16 and not report.skipped
    ids = np.asarray(Image.open(report.written[0]))
    assert ids.shape == (64, 64) and ids.max() < len(CLASSES)


@pytest.mark.slow
def test_training_without_a_test_set_says_nothing_was_evaluated(annotated_photos, tmp_path):
    cfg = build_config(DEMO, {**TINY, "SOLVER.MAX_ITER": 1, "DATASETS.TRAIN": ("photos_train",),
                              "DATASETS.TEST": (), "OUTPUT_DIR": str(tmp_path / "run")})
    train(cfg, progress=False)
    log = (tmp_path / "run" / "log.txt").read_text()
    assert "nothing was evaluated: DATASETS.TEST is empty" in log
    assert (tmp_path / "run" / "model_final.pth").is_file()
    with pytest.raises(InputError, match="no sparse label"):
        _forget("photos_val")
        register_sparse_sem_seg("photos_val", annotated_photos, dense_root=annotated_photos,
                                classes=CLASSES, image_ext=".png", evaluator_type="sparse_sem_seg")
        evaluate(build_config(DEMO, {**TINY, "DATASETS.TEST": ("photos_val",),
                                     "OUTPUT_DIR": str(tmp_path / "run")}), progress=False)


def test_an_output_folder_inside_the_image_folder_is_not_read_as_images(tmp_path):
    photos = write_demo_labelme_export(tmp_path / "photos", images=3, size=32, clicks=5)
    names = register_annotations("inside", photos, photos, CLASSES, output=photos / "sparse")
    report = photos / "sparse" / "import.json"
    first = report.stat().st_mtime_ns
    register_annotations("inside", photos, photos, CLASSES, output=photos / "sparse")
    assert report.stat().st_mtime_ns == first
    assert json.loads(report.read_text())["warnings"] == []
    assert len(DatasetCatalog.get("inside")) == 3
    _forget(*names)
