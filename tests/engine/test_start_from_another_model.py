"""MODEL.WEIGHTS of a model trained with another number of classes: everything but the classifier
is loaded, one log line says what was re-initialised and why, and the guard's counts are honest."""
import logging

import cv2
import numpy as np
import pytest
import torch
from detectron2.data import DatasetCatalog, MetadataCatalog

from agmm_d2.api import build_config, train
from agmm_d2.data import register_sparse_sem_seg
from agmm_d2.data.synthetic import CLASSES
from agmm_d2.engine.checkpoint import GuardedCheckpointer
from tests.engine.test_registration import DEMO, TINY
from tests.modeling.test_model import tiny_model

CLASSIFIER = ("sem_seg_head.predictor.weight", "sem_seg_head.predictor.bias")
FVCORE_NOISE = ("double check", "not found in the checkpoint")


@pytest.fixture
def six_class_checkpoint(tmp_path):
    """A synthetic 6-class model's weights, saved as the trainer saves them."""
    model = tiny_model()
    assert model.sem_seg_head.num_classes == 6
    path = tmp_path / "six_classes.pth"
    torch.save({"model": model.state_dict()}, path)
    return path, model.state_dict()


def _weights_lines(caplog):
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_loads_all_but_the_classifier_with_one_line(six_class_checkpoint, caplog):
    path, six = six_class_checkpoint
    model = tiny_model("MODEL.SEM_SEG_HEAD.NUM_CLASSES", 3)
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    with caplog.at_level(logging.INFO):
        GuardedCheckpointer(model, expect_complete=False).load(str(path), checkpointables=[])
    lines = _weights_lines(caplog)
    assert len(lines) == 1, lines
    assert "re-initialised 2 tensors" in lines[0] and "classifier has 6 classes" in lines[0]
    assert all(k in lines[0] for k in CLASSIFIER) and "this model's 3" in lines[0]
    total = len([k for k in initial if not k.endswith("num_batches_tracked")])
    assert f"{total - 2} of the model's {total} tensors were loaded" in lines[0]
    assert not any(noise in caplog.text for noise in FVCORE_NOISE)
    for k, v in model.state_dict().items():
        expected = initial[k] if k in CLASSIFIER else six[k]
        torch.testing.assert_close(v, expected, rtol=0, atol=0, msg=k)


def test_counts_stay_honest_when_a_complete_checkpoint_is_expected(six_class_checkpoint,
                                                                    caplog):
    path, _ = six_class_checkpoint
    model = tiny_model("MODEL.SEM_SEG_HEAD.NUM_CLASSES", 3)
    total = len([k for k in model.state_dict() if not k.endswith("num_batches_tracked")])
    with caplog.at_level(logging.WARNING):
        GuardedCheckpointer(model, expect_complete=True).load(str(path), checkpointables=[])
    assert (f"only {total - 2} of the model's {total} tensors were loaded from this checkpoint "
            "(0 absent from it, 2 of another shape)") in caplog.text


def _three_class_dataset(root, out):
    """The tiny synthetic set's images with 20 clicks of classes 0-2 (the others unlabeled)."""
    (out / "clicks").mkdir()
    rng = np.random.default_rng(0)
    for dense_file in sorted((root / "dense" / "train").glob("*.png")):
        dense = cv2.imread(str(dense_file), cv2.IMREAD_UNCHANGED)
        sparse = np.full_like(dense, 255)
        ys, xs = rng.integers(0, dense.shape[0], 20), rng.integers(0, dense.shape[1], 20)
        sparse[ys, xs] = np.where(dense[ys, xs] < 3, dense[ys, xs], 255)
        cv2.imwrite(str(out / "clicks" / dense_file.name), sparse)
    register_sparse_sem_seg("three_classes_train", root / "images" / "train", out / "clicks",
                            classes=list(CLASSES[:3]), image_ext=".png")


def test_training_on_three_classes_from_a_six_class_model(six_class_checkpoint, tiny_synthetic,
                                                          tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    path, _ = six_class_checkpoint
    _three_class_dataset(tiny_synthetic / "agmm_synthetic", tmp_path)
    try:
        cfg = build_config(DEMO, {**TINY, "SOLVER.MAX_ITER": 1, "MODEL.WEIGHTS": str(path),
                                  "MODEL.SEM_SEG_HEAD.NUM_CLASSES": 3,
                                  "DATASETS.TRAIN": ("three_classes_train",),
                                  "DATASETS.TEST": (), "OUTPUT_DIR": str(tmp_path / "run")})
        train(cfg, progress=False)
    finally:
        DatasetCatalog.remove("three_classes_train")
        MetadataCatalog.remove("three_classes_train")
    log = (tmp_path / "run" / "log.txt").read_text()
    assert log.count("re-initialised 2 tensors") == 1
    assert "classifier has 6 classes, this model's 3" in log
    assert not any(noise in log for noise in FVCORE_NOISE)
