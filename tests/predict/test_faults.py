"""Faults against prediction: a non-empty output refused, names that cannot collide, the colours of
the user's registration (never black masks), counts that mean nothing refused.

One group of the fault tests (the others: tests/*/test_faults.py; their shared parts:
tests/fault_fixtures.py). The tests drive the command-line tools where they can, so they check what
a user sees: the exit status and the message.
"""
import shutil

import numpy as np
import pytest
from detectron2.data import MetadataCatalog
from PIL import Image

from tests.fault_fixtures import (
    DEMO,
    TINY,
    cli_module,
    registration_file,
    run_predict,
)

pytestmark = pytest.mark.usefixtures("scan_cache")


@pytest.mark.slow
def test_predict_refuses_a_non_empty_output(predict, tiny_synthetic, weights, capsys, tmp_path):
    out = tmp_path / "pred"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    images = tiny_synthetic / "agmm_synthetic" / "images" / "val"
    status, io = run_predict(predict, capsys, "--input", images, "--output", out,
                             "MODEL.WEIGHTS", weights)
    assert status == 2 and "not empty" in io.err and "--overwrite" in io.err
    status, io = run_predict(predict, capsys, "--input", images, "--output", out, "--overwrite",
                             "MODEL.WEIGHTS", weights)
    assert status == 0 and (out / "keep.txt").read_text() == "mine"
    assert len(list((out / "ids").glob("*.png"))) == 6


@pytest.mark.slow
def test_predict_names_cannot_collide(predict, tiny_synthetic, weights, capsys, tmp_path):
    src = tiny_synthetic / "agmm_synthetic" / "images" / "val"
    images = tmp_path / "in"
    images.mkdir()
    shutil.copy(src / "0000.png", images / "x.png")
    Image.open(src / "0001.png").convert("RGB").save(images / "x.jpg")
    out = tmp_path / "pred"
    status, io = run_predict(predict, capsys, "--input", images, "--output", out,
                             "MODEL.WEIGHTS", weights)
    assert status == 0, io.err
    written = sorted(p.name for p in (out / "ids").iterdir())
    assert written == ["x.jpg.png", "x.png.png"]
    assert "wrote 2 predictions (4 files)" in io.out
    # The same relative name from two --input folders: refused, with both paths.
    other = tmp_path / "in2"
    other.mkdir()
    shutil.copy(src / "0002.png", other / "x.png")
    status, io = run_predict(predict, capsys, "--input", images / "x.png",
                             "--input", other / "x.png", "--output", tmp_path / "pred2",
                             "MODEL.WEIGHTS", weights)
    assert status == 2 and str(images / "x.png") in io.err and str(other / "x.png") in io.err
    assert not (tmp_path / "pred2").exists()


def test_predict_takes_register_and_refuses_black_masks(predict, data, weights, capsys, tmp_path,
                                                        forget_user_datasets):
    user = ["DATASETS.TEST", "('user_val',)", "DATASETS.TRAIN", "('user_train',)"]
    images = data / "images" / "val"
    status, io = run_predict(predict, capsys, "--input", images, "--output", tmp_path / "black",
                             "MODEL.WEIGHTS", weights, *user)
    assert status == 2 and "stuff_colors" in io.err and "--register" in io.err
    assert not (tmp_path / "black").exists()
    register = registration_file(tmp_path / "my_datasets.py", data)
    status, io = run_predict(predict, capsys, "--register", register, "--input", images, "--output",
                             tmp_path / "pred", "MODEL.WEIGHTS", weights, *user)
    assert status == 0, io.err
    color = np.asarray(Image.open(tmp_path / "pred" / "color" / "0000.png"))
    ids = np.asarray(Image.open(tmp_path / "pred" / "ids" / "0000.png"))
    assert (color == MetadataCatalog.get("user_val").stuff_colors[0]).all(-1).sum() == \
        (ids == 0).sum() and color.reshape(-1, 3).any(1).all()  # the user's colours, no black


def test_tool_counts_that_mean_nothing_are_refused(predict, data, weights, capsys, tmp_path):
    status, io = run_predict(predict, capsys, "--input", data / "images" / "val", "--output",
                             tmp_path / "pred", "--batch-size", 0, "MODEL.WEIGHTS", weights)
    assert status == 2 and "--batch-size 0: expected 1 or more" in io.err
    visualize = cli_module("visualize")
    status = visualize.main(["--config-file", DEMO, "--dataset", "fault_train", "--num", "0",
                             "--output", str(tmp_path / "vis"), *TINY, "MODEL.WEIGHTS",
                             str(weights)])
    assert status == 2 and "--num 0: expected 1 or more" in capsys.readouterr().err
    assert not (tmp_path / "pred").exists() and not (tmp_path / "vis").exists()
