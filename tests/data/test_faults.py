"""Broken inputs and faults against the tools, one group per kind of failure:

1. results that would be silently wrong, 2. bad files that would be found hours late,
3. outputs that would be lost or unreadable, 4. checkpoints and weights loaded without a guard,
5. tools that would accept nonsense or miss problems;
and the cases that already worked, so that none regresses. Then the four kinds of "every command
tells the truth": A. no number or file that means nothing, B. no file silently left out,
C. no check that passes and then crashes, D. no output replaced or left half-written.

The tests drive the command-line tools (in-process where the tool allows it, for speed), so they
check what a user sees: the exit status and the message.
"""
import importlib
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from detectron2.data import DatasetCatalog, MetadataCatalog
from PIL import Image

from agmm_d2.data import register_sparse_sem_seg
from agmm_d2.data.synthetic import CLASSES, generate

REPO = Path(__file__).resolve().parents[1]
DEMO = str(REPO / "configs" / "synthetic/points_released.yaml")
# The demo architecture, narrower, on 64-px images: seconds per run (as in test_train_net.py).
TINY = ["SOLVER.IMS_PER_BATCH", "4", "INPUT.CROP.SIZE", "(64, 64)", "DATALOADER.NUM_WORKERS", "0",
        "MODEL.RESNETS.WIDTH_PER_GROUP", "4", "MODEL.RESNETS.RES2_OUT_CHANNELS", "16",
        "MODEL.RESNETS.STEM_OUT_CHANNELS", "8", "SOLVER.MAX_ITER", "2"]
DATASETS = ["DATASETS.TRAIN", "('fault_train',)", "DATASETS.TEST", "('fault_val',)"]


def _script(name):
    """The module behind a tool's script (its ``main``/``cli``)."""
    return importlib.import_module(f"agmm_d2.cli.{name}")


@pytest.fixture(scope="module")
def train_net():
    return _script("train_net")


@pytest.fixture(scope="module")
def predict():
    return _script("predict")


@pytest.fixture(autouse=True)
def scan_cache(tmp_path, monkeypatch):
    """A scan cache of this test's own (a shared one would hide a file read once before)."""
    monkeypatch.setenv("AGMM_D2_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")


@pytest.fixture
def data(tiny_synthetic, tmp_path):
    """A copy of the tiny synthetic set (12 train / 6 val, 64 px) registered as fault_train
    (point labels) and fault_val (dense labels); the test may break its files."""
    root = tmp_path / "data"
    shutil.copytree(tiny_synthetic / "agmm_synthetic", root)
    register_sparse_sem_seg("fault_train", root / "images" / "train", root / "point" / "train",
                            classes=CLASSES, image_ext=".png")
    register_sparse_sem_seg("fault_val", root / "images" / "val", None, root / "dense" / "val",
                            classes=CLASSES, image_ext=".png")
    yield root
    for name in ("fault_train", "fault_val"):
        DatasetCatalog.remove(name)
        MetadataCatalog.remove(name)


def _run(train_net, capsys, *opts, flags=()):
    """train_net.main in this process (one process: it trains here) with ``flags`` and the config
    overrides ``opts``; (status, stderr)."""
    status = train_net.main([*flags, "--config-file", DEMO, *TINY, *DATASETS, *map(str, opts)])
    return status, capsys.readouterr().err


def _tool(name, *args):
    return subprocess.run([sys.executable, str(REPO / "datasets_prep" / f"{name}.py"),
                           *map(str, args)], cwd=REPO, capture_output=True, text=True, timeout=120)


def _write(path, array, mode=None):
    Image.fromarray(np.asarray(array, np.uint8), mode=mode).save(path)


# ---------------------------------------------------------------------------------------------
# 1. Silently wrong results
# ---------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_eval_label_value_outside_the_classes_stops_with_the_file(train_net, data, capsys,
                                                                  tmp_path):
    bad = data / "dense" / "val" / "0002.png"
    label = np.asarray(Image.open(bad)).copy()
    label[:4, :4] = 9  # 6 classes, ignore 255: 9 is neither
    _write(bad, label)
    status, err = _run(train_net, capsys, "OUTPUT_DIR", tmp_path / "run")
    assert status == 2 and str(bad) in err and "label values [9]" in err
    assert not (tmp_path / "run" / "model_final.pth").exists()


@pytest.mark.slow
def test_eval_label_outside_counted_as_ignored_when_asked(train_net, data, capsys, tmp_path):
    bad = data / "dense" / "val" / "0002.png"
    label = np.asarray(Image.open(bad)).copy()
    label[:4, :4] = 9
    _write(bad, label)
    status, _ = _run(train_net, capsys, "TEST.OUT_OF_RANGE_LABELS", "ignore",
                     "OUTPUT_DIR", tmp_path / "run")
    assert status == 0
    log = (tmp_path / "run" / "log.txt").read_text()
    assert "16 pixels hold label values outside the classes" in log
    assert "of which 16 with values outside the classes" in log  # the mIoU table says it
    metrics = torch.load(tmp_path / "run" / "inference" / "fault_val" / "sem_seg_evaluation.pth",
                         weights_only=False)
    assert metrics["out_of_range_pixels"] == 16 and metrics["ignored_pixels"] >= 16


def test_evaluator_checks_labels_without_the_scan(data, tmp_path):
    """--skip-data-check leaves the evaluator's own check: it names the file."""
    from agmm_d2.evaluation import CheckedSemSegEvaluator

    bad = data / "dense" / "val" / "0001.png"
    label = np.asarray(Image.open(bad)).copy()
    label[0, 0] = 7
    _write(bad, label)
    evaluator = CheckedSemSegEvaluator("fault_val", distributed=False)
    evaluator.reset()
    record = next(r for r in DatasetCatalog.get("fault_val") if r["sem_seg_file_name"] == str(bad))
    output = {"sem_seg": torch.zeros(len(CLASSES), 64, 64)}
    with pytest.raises(ValueError, match=f"{bad}: dense label values \\[7\\]"):
        evaluator.process([record], [output])


def test_dense_training_set_is_annotated(data):
    """A training set of dense labels (no sparse ones) is scanned as the mapper reads it."""
    from agmm_d2.data.checks.scan import scan_records

    register_sparse_sem_seg(
        "fault_dense",
        data / "images" / "train",
        None,
        data / "dense" / "train",
        classes=CLASSES,
        image_ext=".png",
    )
    try:
        report = scan_records("fault_dense", DatasetCatalog.get("fault_dense"), num_classes=6)
    finally:
        DatasetCatalog.remove("fault_dense")
        MetadataCatalog.remove("fault_dense")
    assert report.ok and report.annotated_pixels == 12 * 64 * 64


def test_training_set_without_any_annotation_stops(train_net, data, capsys, tmp_path):
    for path in (data / "point" / "train").glob("*.png"):
        _write(path, np.full((64, 64), 255))
    status, err = _run(train_net, capsys, "OUTPUT_DIR", tmp_path / "run")
    assert status == 2 and "annotates any pixel" in err and "nothing to learn from" in err


# ---------------------------------------------------------------------------------------------
# 2. Bad files found before the first iteration, not hours into the run
# ---------------------------------------------------------------------------------------------
def _rgb_label(path):
    _write(path, np.zeros((64, 64, 3)), mode="RGB")


def _value_over_k(path):
    label = np.asarray(Image.open(path)).copy()
    label[10, 10] = 6
    _write(path, label)


def _other_size(path):
    _write(path, np.full((32, 64), 255))


def _truncated_image(path):
    path.write_bytes(path.read_bytes()[:200])


def _not_an_image(path):
    path.write_text("not an image")


@pytest.mark.parametrize("which,fault,message", [
    ("point/train/0003.png", _rgb_label, "mode RGB"),
    ("point/train/0003.png", _value_over_k, "label values [6]"),
    ("point/train/0003.png", _other_size, "label is 64x32 (WxH) but its image"),
    ("images/train/0003.png", _truncated_image, "cannot decode the image"),
    ("images/train/0003.png", _not_an_image, "cannot decode the image"),
])
def test_bad_training_file_is_found_before_the_run(train_net, data, capsys, tmp_path, which,
                                                   fault, message):
    fault(data / which)
    status, err = _run(train_net, capsys, "OUTPUT_DIR", tmp_path / "run")
    assert status == 2, err
    assert f"{data / which}: " in err and message in err, err
    assert "Traceback" not in err and not (tmp_path / "run" / "metrics.json").exists()


@pytest.mark.slow
def test_one_bad_label_among_300_stops_before_the_first_iteration(train_net, capsys, tmp_path):
    root = generate(tmp_path / "d300", seed=5, n_train=300, n_val=4, n_test=0, size=32)
    bad = root / "point" / "train" / "0123.png"
    label = np.asarray(Image.open(bad)).copy()
    label[5, 5] = 17
    _write(bad, label)
    register_sparse_sem_seg("fault_train", root / "images" / "train", root / "point" / "train",
                            classes=CLASSES, image_ext=".png")
    register_sparse_sem_seg("fault_val", root / "images" / "val", None, root / "dense" / "val",
                            classes=CLASSES, image_ext=".png")
    try:
        status, err = _run(train_net, capsys, "INPUT.CROP.SIZE", "(32, 32)",
                           "OUTPUT_DIR", tmp_path / "run")
    finally:
        for name in ("fault_train", "fault_val"):
            DatasetCatalog.remove(name)
            MetadataCatalog.remove(name)
    assert status == 2 and f"{bad}: label values [17]" in err
    assert "1 broken file(s) or problem(s) in 300 images" in err
    assert not (tmp_path / "run" / "log.txt").exists()  # stopped before any process was set up


@pytest.mark.slow
def test_skip_data_check_skips_the_scan_not_the_evaluators_check(train_net, data, capsys,
                                                                  tmp_path):
    bad = data / "dense" / "val" / "0001.png"
    label = np.asarray(Image.open(bad)).copy()
    label[0, 0] = 7
    _write(bad, label)
    with pytest.raises(ValueError, match=f"{bad}: dense label values \\[7\\]"):
        _run(train_net, capsys, "OUTPUT_DIR", tmp_path / "run", flags=["--skip-data-check"])
    assert (tmp_path / "run" / "model_final.pth").is_file()  # it trained: no scan stopped it


# ---------------------------------------------------------------------------------------------
# 3. Outputs never overwritten by accident, and readable by others
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def weights(tiny_synthetic, tmp_path_factory):
    """model_final.pth of the demo config trained for 2 iterations on the tiny dataset."""
    out = tmp_path_factory.mktemp("fault_model")
    env = dict(os.environ, DETECTRON2_DATASETS=str(tiny_synthetic), OMP_NUM_THREADS="1",
               AGMM_D2_CACHE=str(out / "cache"))
    result = subprocess.run([sys.executable, str(REPO / "tools" / "train_net.py"), "--config-file",
                             DEMO, *TINY, "DATASETS.TEST", "()", "OUTPUT_DIR", str(out)],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return out / "model_final.pth"


def _predict(predict, capsys, *args):
    status = predict.main(["--config-file", DEMO, *map(str, args), *TINY])
    return status, capsys.readouterr()


@pytest.mark.slow
def test_predict_refuses_a_non_empty_output(predict, tiny_synthetic, weights, capsys, tmp_path):
    out = tmp_path / "pred"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    images = tiny_synthetic / "agmm_synthetic" / "images" / "val"
    status, io = _predict(predict, capsys, "--input", images, "--output", out,
                          "MODEL.WEIGHTS", weights)
    assert status == 2 and "not empty" in io.err and "--overwrite" in io.err
    status, io = _predict(predict, capsys, "--input", images, "--output", out, "--overwrite",
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
    status, io = _predict(predict, capsys, "--input", images, "--output", out,
                          "MODEL.WEIGHTS", weights)
    assert status == 0, io.err
    written = sorted(p.name for p in (out / "ids").iterdir())
    assert written == ["x.jpg.png", "x.png.png"]
    assert "wrote 2 predictions (4 files)" in io.out
    # The same relative name from two --input folders: refused, with both paths.
    other = tmp_path / "in2"
    other.mkdir()
    shutil.copy(src / "0002.png", other / "x.png")
    status, io = _predict(predict, capsys, "--input", images / "x.png", "--input", other / "x.png",
                          "--output", tmp_path / "pred2", "MODEL.WEIGHTS", weights)
    assert status == 2 and str(images / "x.png") in io.err and str(other / "x.png") in io.err
    assert not (tmp_path / "pred2").exists()


@pytest.mark.slow
def test_written_files_honour_the_umask(predict, tiny_synthetic, weights, capsys, tmp_path):
    old = os.umask(0o022)
    try:
        out = tmp_path / "pred"
        status, _ = _predict(predict, capsys, "--input",
                             tiny_synthetic / "agmm_synthetic" / "images" / "val", "--output", out,
                             "MODEL.WEIGHTS", weights)
        made = _tool(
            "make_clicks",
            "--dense",
            tiny_synthetic / "agmm_synthetic" / "dense" / "train",
            "--out-root",
            tmp_path / "prep",
            "--clicks",
            3,
        )
        root = generate(tmp_path / "gen", n_train=2, n_val=1, n_test=0, size=32)
    finally:
        os.umask(old)
    assert status == 0 and made.returncode == 0, made.stderr
    clicks = tmp_path / "prep" / "3clicks_seed0"
    for path in (out / "ids" / "0000.png", clicks / "0000.png", clicks / "image_classes.json",
                 root / "images" / "train" / "0000.png", root / ".complete"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path
    for folder in (out / "ids", clicks, root):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o755, folder


# ---------------------------------------------------------------------------------------------
# 4. Checkpoints and weights loaded with a guard
# ---------------------------------------------------------------------------------------------
def test_weights_that_are_not_a_checkpoint(predict, train_net, data, capsys, tmp_path):
    fake = tmp_path / "weights.pth"
    fake.write_text("not a checkpoint")
    status, io = _predict(predict, capsys, "--input", data / "images" / "val", "--output",
                          tmp_path / "pred", "MODEL.WEIGHTS", fake)
    assert status == 2 and f"{fake}: not a readable checkpoint" in io.err
    assert io.err.strip().count("\n") == 0 and "weights_only" not in io.err
    status, err = _run(train_net, capsys, "MODEL.WEIGHTS", fake, "OUTPUT_DIR", tmp_path / "eval",
                       flags=["--eval-only"])
    assert status == 2 and f"{fake}: not a readable checkpoint" in err


@pytest.mark.slow
def test_checkpoint_of_another_model_is_refused_or_warned(predict, data, weights, capsys,
                                                          tmp_path):
    other = tmp_path / "other.pth"
    torch.save({"model": {"some.other.layer.weight": torch.zeros(3)}}, other)
    status, io = _predict(predict, capsys, "--input", data / "images" / "val", "--output",
                          tmp_path / "pred", "MODEL.WEIGHTS", other)
    assert status == 2 and "none of the model's" in io.err and str(other) in io.err
    state = torch.load(weights, weights_only=False)
    few = {"model": {k: v for i, (k, v) in enumerate(state["model"].items()) if i < 5}}
    part = tmp_path / "part.pth"
    torch.save(few, part)
    status, io = _predict(predict, capsys, "--input", data / "images" / "val", "--output",
                          tmp_path / "pred3", "MODEL.WEIGHTS", part)
    assert status == 0  # predictions are written, with a loud warning
    assert "only 5 of the model's" in io.err + io.out


@pytest.mark.slow
def test_resume_from_a_truncated_or_missing_last_checkpoint(train_net, data, weights, capsys,
                                                            tmp_path):
    out = tmp_path / "run"
    status, err = _run(train_net, capsys, "SOLVER.MAX_ITER", "4", "SOLVER.CHECKPOINT_PERIOD", "2",
                       "DATASETS.TEST", "()", "OUTPUT_DIR", out)
    assert status == 0, err
    assert (out / "last_checkpoint").read_text() == "model_final.pth"
    final = out / "model_final.pth"
    final.write_bytes(final.read_bytes()[:1000])  # truncated
    status, err = _run(train_net, capsys, "SOLVER.MAX_ITER", "4", "SOLVER.CHECKPOINT_PERIOD", "100",
                       "DATASETS.TEST", "()", "OUTPUT_DIR", out, flags=["--resume"])
    assert status == 0, err
    assert "resuming from model_0000003.pth" in err  # the newest readable one, said before
    log = (out / "log.txt").read_text()
    assert "resuming from model_0000003.pth" in log and "Starting training from iteration 4" in log
    (out / "last_checkpoint").write_text("model_9999999.pth")  # names a missing file
    for p in out.glob("model_*.pth"):
        p.unlink()
    status, err = _run(train_net, capsys, "DATASETS.TEST", "()", "OUTPUT_DIR", out,
                       flags=["--resume"])
    assert status == 2 and "model_9999999.pth" in err and "the file does not exist" in err
    assert err.strip().count("\n") == 0


def test_output_dir_that_cannot_be_created(train_net, data, capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file, not a folder")
    status, err = _run(train_net, capsys, "OUTPUT_DIR", blocker / "run")
    assert status == 2 and f"OUTPUT_DIR '{blocker / 'run'}': cannot be created" in err


# ---------------------------------------------------------------------------------------------
# 5. Tools that refuse nonsense and find what is wrong
# ---------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_prep_tools_refuse_bad_counts_and_empty_inputs(tiny_synthetic, tmp_path):
    dense = tiny_synthetic / "agmm_synthetic" / "dense" / "train"
    for args, message in [(["--dense", dense, "--out-root", tmp_path, "--clicks", 0],
                           "clicks is 0; expected at least 1"),
                          (["--dense", dense, "--out-root", tmp_path, "--per-region", -2],
                           "per_region is -2; expected at least 1"),
                          (["--dense", tmp_path, "--out-root", tmp_path / "o", "--clicks", 5],
                           "no *.png label file")]:
        result = _tool("make_clicks", *args)
        assert result.returncode == 2, result.stderr
        assert result.stderr.strip().count("\n") == 0 and message in result.stderr
        assert result.stderr.startswith("make_clicks.py: error: ")
    assert not (tmp_path / "o").exists() and not list(tmp_path.glob("*clicks*"))


def test_check_finds_a_missing_label_and_a_truncated_image(data, capsys):
    check = _script("check_dataset")
    (data / "point" / "train" / "0004.png").unlink()
    _truncated_image(data / "images" / "train" / "0005.png")
    assert check.main(["fault_train"]) == 1
    report = capsys.readouterr().out
    assert "missing_label" in report and "0004.png" in report
    assert "unreadable_image" in report and "0005.png" in report


def test_check_takes_a_folder_and_suggests_close_names(data, capsys):
    check = _script("check_dataset")
    status = check.main([str(data / "images" / "train"), "--sparse", str(data / "point" / "train"),
                         "--num-classes", "6", "--image-ext", ".png"])
    assert status == 0, capsys.readouterr().out
    assert check.main(["fault_trian"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("check_dataset.py: error: dataset: dataset 'fault_trian' is not "
                            "registered") and len(error.splitlines()) == 1
    assert "did you mean fault_train" in error and error.count(",") < 5


# ---------------------------------------------------------------------------------------------
# What already worked, kept from regressing
# ---------------------------------------------------------------------------------------------
def test_prep_tool_interrupted_leaves_nothing(tiny_synthetic, tmp_path, monkeypatch):
    from agmm_d2.data import sparse_labels

    calls = []

    def failing(key, dense):
        calls.append(key)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return dense

    with pytest.raises(KeyboardInterrupt):
        sparse_labels.sparsify_folder(tiny_synthetic / "agmm_synthetic" / "dense" / "train",
                             tmp_path / "out", failing)
    assert list(tmp_path.iterdir()) == []  # no output, no temporary folder


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path):
    from agmm_d2.utils import atomic_write

    target = tmp_path / "a.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_write(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError
    assert target.read_text() == "old" and sorted(tmp_path.iterdir()) == [target]


@pytest.mark.slow
def test_checkpoints_written_by_training_are_complete_zip_files(weights):
    assert zipfile.is_zipfile(weights)


# ---------------------------------------------------------------------------------------------
# A. No number or file that means nothing, with exit status 0
# ---------------------------------------------------------------------------------------------
def test_eval_only_without_weights_names_what_it_looked_for(train_net, data, weights, capsys,
                                                            tmp_path):
    out = tmp_path / "run"
    status, err = _run(train_net, capsys, "MODEL.WEIGHTS", "", "OUTPUT_DIR", out,
                       flags=["--eval-only"])
    assert status == 2 and "MODEL.WEIGHTS is empty" in err
    assert f"{out / 'model_final.pth'} does not exist" in err and err.strip().count("\n") == 0
    shutil.copy(weights, out / "model_final.pth")  # trained, but not named: still refused
    status, err = _run(train_net, capsys, "MODEL.WEIGHTS", "", "OUTPUT_DIR", out,
                       flags=["--eval-only"])
    assert status == 2 and f"pass MODEL.WEIGHTS {out / 'model_final.pth'}" in err
    assert not (out / "inference").exists()


def _registration_file(path, root, *, colors=True):
    """A user's registration code: 'user_val' (dense) and 'user_train' (point labels) of the
    dataset at ``root``, with stuff_classes and, if ``colors``, stuff_colors (none black)."""
    if colors:
        code = ("from agmm_d2.data import register_sparse_sem_seg\n"
                "COLORS = [[40 * i + 20, 200, 30] for i in range(len(CLASSES))]\n"
                "def register(name, images, sparse, dense):\n"
                "    register_sparse_sem_seg(name, images, sparse, dense, classes=CLASSES,\n"
                "                            colors=COLORS, image_ext='.png')\n")
    else:  # detectron2's own catalog, class names only
        code = ("from agmm_d2.data import load_sparse_sem_seg\n"
                "from detectron2.data import DatasetCatalog, MetadataCatalog\n"
                "def register(name, images, sparse, dense):\n"
                "    DatasetCatalog.register(name, lambda: load_sparse_sem_seg(\n"
                "        images, sparse, dense, image_ext='.png'))\n"
                "    MetadataCatalog.get(name).set(stuff_classes=CLASSES)\n")
    path.write_text(
        "from agmm_d2.data.synthetic import CLASSES\n" + code +
        f"register('user_val', r'{root}/images/val', None, r'{root}/dense/val')\n"
        f"register('user_train', r'{root}/images/train', r'{root}/point/train', None)\n")
    return path


@pytest.fixture
def forget_user_datasets():
    yield
    for name in ("user_val", "user_train"):
        if name in DatasetCatalog.list():
            DatasetCatalog.remove(name)
            MetadataCatalog.remove(name)


def test_predict_takes_register_and_refuses_black_masks(predict, data, weights, capsys, tmp_path,
                                                        forget_user_datasets):
    user = ["DATASETS.TEST", "('user_val',)", "DATASETS.TRAIN", "('user_train',)"]
    images = data / "images" / "val"
    status, io = _predict(predict, capsys, "--input", images, "--output", tmp_path / "black",
                          "MODEL.WEIGHTS", weights, *user)
    assert status == 2 and "stuff_colors" in io.err and "--register" in io.err
    assert not (tmp_path / "black").exists()
    register = _registration_file(tmp_path / "my_datasets.py", data)
    status, io = _predict(predict, capsys, "--register", register, "--input", images, "--output",
                          tmp_path / "pred", "MODEL.WEIGHTS", weights, *user)
    assert status == 0, io.err
    color = np.asarray(Image.open(tmp_path / "pred" / "color" / "0000.png"))
    ids = np.asarray(Image.open(tmp_path / "pred" / "ids" / "0000.png"))
    assert (color == MetadataCatalog.get("user_val").stuff_colors[0]).all(-1).sum() == \
        (ids == 0).sum() and color.reshape(-1, 3).any(1).all()  # the user's colours, no black


def test_visualize_takes_register_and_refuses_colourless_metadata(data, weights, capsys,
                                                                  tmp_path, forget_user_datasets):
    visualize = _script("visualize")
    plain = _registration_file(tmp_path / "plain.py", data, colors=False)
    status = visualize.main(["--config-file", DEMO, "--register", str(plain), "--dataset",
                             "user_train", "--num", "1", "--output", str(tmp_path / "v1"),
                             *TINY, "MODEL.WEIGHTS", str(weights)])
    err = capsys.readouterr().err
    assert status == 2 and "stuff_colors" in err and not (tmp_path / "v1").exists()
    DatasetCatalog.remove("user_train")
    MetadataCatalog.remove("user_train")
    good = _registration_file(tmp_path / "good.py", data)
    status = visualize.main(["--config-file", DEMO, "--register", str(good), "--dataset",
                             "user_train", "--num", "1", "--output", str(tmp_path / "v2"),
                             *TINY, "MODEL.WEIGHTS", str(weights)])
    assert status == 0, capsys.readouterr().err
    assert (tmp_path / "v2" / "0000.png").is_file()


# ---------------------------------------------------------------------------------------------
# B. No file silently left out
# ---------------------------------------------------------------------------------------------
def test_suffixes_match_without_case_and_left_out_files_are_counted(data, capsys, caplog):
    from agmm_d2.data.checks import check_data
    from agmm_d2.engine import build_config

    images = data / "images" / "train"
    for key in ("0001", "0002"):
        (images / f"{key}.png").rename(images / f"{key}.PNG")
    (data / "point" / "train" / "0003.png").rename(data / "point" / "train" / "0003.PNG")
    Image.open(images / "0004.png").save(images / "0004.jpeg")  # another suffix: left out
    (images / "0004.png").unlink()
    (images / ".0005.png").write_bytes(b"")  # a hidden file (macOS resource fork): left out
    with caplog.at_level("WARNING"):
        records = DatasetCatalog.get("fault_train")
    assert len(records) == 11 and {Path(r["file_name"]).name for r in records} >= {"0001.PNG",
                                                                                     "0002.PNG"}
    assert "11 images used, 3 file(s) left out" in caplog.text  # the training log says it
    assert "other_suffix" in caplog.text and "0004.jpeg" in caplog.text
    cfg = build_config(DEMO, [*TINY, *DATASETS])
    warnings = "\n".join(check_data(cfg, eval_only=False))
    assert "DATASETS.TRAIN dataset 'fault_train': 11 images used, 3 file(s) left out" in warnings
    check = _script("check_dataset")
    assert check.main(["fault_train"]) == 1
    report = capsys.readouterr().out
    assert '"other_suffix": 1' in report and '"label_without_image": 1' in report
    assert '"hidden_file": 1' in report


def test_several_image_suffixes_match_without_case_through_one_index(data, caplog):
    """image_ext as a tuple (a folder of mixed images, as the annotation importers register):
    every suffix is matched without regard to case, the first listed wins for a shared name,
    and the rest is left out with a count."""
    from agmm_d2.data.datasets.files import index_folder

    images = data / "images" / "train"
    Image.open(images / "0001.png").convert("RGB").save(images / "0001.JPG")
    (images / "0001.png").unlink()
    Image.open(images / "0002.png").convert("RGB").save(images / "0002.jpg")  # 0002.png first
    (images / "0003.png").rename(images / "0003.PNG")
    index = index_folder(images, (".png", ".jpg"), report_other_suffixes=True)
    assert index.files["0001"].name == "0001.JPG" and index.files["0002"].name == "0002.png"
    assert index.files["0003"].name == "0003.PNG" and len(index.files) == 12
    assert [(kind, Path(path).name) for kind, path, _ in index.left_out] == [
        ("duplicate_name", "0002.jpg")]
    register_sparse_sem_seg("fault_train", images, data / "point" / "train", classes=CLASSES,
                            image_ext=(".png", ".jpg"))
    with caplog.at_level("WARNING"):
        records = DatasetCatalog.get("fault_train")
    assert len(records) == 12 and "12 images used, 1 file(s) left out (1 duplicate_name)" \
        in caplog.text


# ---------------------------------------------------------------------------------------------
# C. No check that passes and then crashes
# ---------------------------------------------------------------------------------------------
def _exif_rotated_dataset(data, label_matches):
    """Image 0003 of fault_train as a phone stores a portrait photo: 64x48 (WxH) pixels with
    EXIF orientation 6, which the loader reads as 48x64; its label is 48x64 ("loaded") or
    64x48 ("stored")."""
    images, labels = data / "images" / "train", data / "point" / "train"
    loaded = Image.open(images / "0003.png").convert("RGB").crop((0, 0, 48, 64))
    exif = Image.Exif()
    exif[0x0112] = 6  # detectron2's read_image turns it by 270 degrees
    loaded.transpose(Image.Transpose.ROTATE_90).save(images / "0003.png", exif=exif)
    label = np.asarray(Image.open(labels / "0003.png"))[:, :48]
    _write(labels / "0003.png", label if label_matches == "loaded" else label.T)
    return images / "0003.png", labels / "0003.png"


def test_exif_oriented_image_is_measured_as_the_loader_reads_it(train_net, data, capsys,
                                                                 tmp_path):
    from detectron2.data.detection_utils import read_image

    image, _ = _exif_rotated_dataset(data, "loaded")
    assert read_image(str(image)).shape[:2] == (64, 48)  # what the loader sees
    status, err = _run(train_net, capsys, "DATASETS.TEST", "()", "OUTPUT_DIR", tmp_path / "run")
    assert status == 0, err  # the scan passes and the run trains (no crash in the mapper)
    assert (tmp_path / "run" / "model_final.pth").is_file()


def test_label_of_the_stored_exif_image_is_one_clear_line(train_net, data, capsys, tmp_path):
    _, label = _exif_rotated_dataset(data, "stored")
    status, err = _run(train_net, capsys, "DATASETS.TEST", "()", "OUTPUT_DIR", tmp_path / "run")
    assert status == 2 and f"{label}: label is 64x48 (WxH), the image" in err
    assert "EXIF orientation to 48x64" in err and "Traceback" not in err


def test_resume_with_a_larger_max_iter_follows_the_new_schedule(train_net, data, capsys, tmp_path):
    out = tmp_path / "run"
    common = ["SOLVER.WARMUP_ITERS", "0", "DATASETS.TEST", "()", "OUTPUT_DIR", out]
    status, err = _run(train_net, capsys, "SOLVER.MAX_ITER", "2", *common)
    assert status == 0, err
    status, err = _run(train_net, capsys, "SOLVER.MAX_ITER", "4", *common, flags=["--resume"])
    assert status == 0, err
    import json

    lr = {r["iteration"]: r["lr"] for r in map(json.loads, (out / "metrics.json").open())
          if "lr" in r}
    power = 0.9  # SOLVER.POLY_LR_POWER of the demo config
    # poly: lr(i) = base * (1 - i / MAX_ITER) ** power; iteration 1 of 2, then 3 of the new 4
    assert lr[3] / lr[1] == pytest.approx(((1 - 3 / 4) / (1 - 1 / 2)) ** power, rel=1e-6)


@pytest.mark.parametrize("flags,opts,message", [
    ([], ["SOLVER.MAX_ITER", "0"], "SOLVER.MAX_ITER is 0; expected 1 or more"),
    ([], ["DATASETS.TRAIN", "()"], "DATASETS.TRAIN is empty"),
    (["--eval-only"], ["DATASETS.TEST", "()"], "DATASETS.TEST is empty: there is nothing to "
                                               "evaluate"),
    (["--num-gpus", "2"], ["SOLVER.IMS_PER_BATCH", "3"], "SOLVER.IMS_PER_BATCH is 3, which 2 "
                                                         "processes cannot share"),
    ([], ["DATALOADER.NUM_WORKERS", "-1"], "DATALOADER.NUM_WORKERS is -1"),
    ([], ["SOLVER.SWA.ENABLED", "True", "TEST.PRECISE_BN.ENABLED", "True",
          "SOLVER.SWA.START_FRACTION", "1.0"], "SOLVER.SWA.START_FRACTION is 1.0; expected a "
                                               "fraction of SOLVER.MAX_ITER in [0, 1)"),
    ([], ["SOLVER.SWA.ENABLED", "True"], "SOLVER.SWA.ENABLED needs TEST.PRECISE_BN.ENABLED True"),
])
def test_runs_that_would_crash_in_their_processes_stop_first(train_net, data, weights, capsys,
                                                             tmp_path, flags, opts, message):
    status, err = _run(train_net, capsys, "MODEL.WEIGHTS", weights, "OUTPUT_DIR", tmp_path / "run",
                       *opts, flags=flags)
    assert status == 2 and message in err and err.strip().count("\n") == 0, err
    assert not (tmp_path / "run" / "log.txt").exists()


# ---------------------------------------------------------------------------------------------
# D. No output replaced without --overwrite, none left half-written
# ---------------------------------------------------------------------------------------------
def test_training_does_not_replace_an_earlier_run(train_net, data, capsys, tmp_path):
    out = tmp_path / "run"
    common = ["SOLVER.MAX_ITER", "1", "DATASETS.TEST", "()", "OUTPUT_DIR", out]
    status, err = _run(train_net, capsys, *common)
    assert status == 0, err
    first = (out / "model_final.pth").read_bytes()
    status, err = _run(train_net, capsys, *common)
    assert status == 2 and err.strip().count("\n") == 0, err
    assert "holds an earlier run (last_checkpoint, metrics.json, model_final.pth)" in err, err
    assert "--resume continues it, --overwrite replaces it" in err, err
    assert (out / "model_final.pth").read_bytes() == first  # left as it was
    status, err = _run(train_net, capsys, *common, flags=["--overwrite"])
    assert status == 0, err


def test_visualize_does_not_replace_a_users_file(data, weights, capsys, tmp_path):
    visualize = _script("visualize")
    out = tmp_path / "vis"
    out.mkdir()
    (out / "0000.png").write_text("the user's own file")
    args = ["--config-file", DEMO, "--dataset", "fault_train", "--num", "1", "--output", str(out),
            *TINY, "MODEL.WEIGHTS", str(weights)]
    status = visualize.main(args)
    assert status == 2 and "--overwrite" in capsys.readouterr().err
    assert (out / "0000.png").read_text() == "the user's own file"
    assert visualize.main(["--overwrite", *args]) == 0
    assert Image.open(out / "0000.png").size[1] == 64 + 18  # replaced, as told


def test_image_classes_does_not_replace_an_existing_file(tiny_synthetic, tmp_path):
    dense = tmp_path / "dense"
    shutil.copytree(tiny_synthetic / "agmm_synthetic" / "dense" / "train", dense)
    (dense / "image_classes.json").write_text('{"hand": [1]}')
    result = _tool("image_classes", "--dense", dense)
    assert result.returncode == 2 and "--overwrite" in result.stderr
    assert (dense / "image_classes.json").read_text() == '{"hand": [1]}'
    result = _tool("image_classes", "--dense", dense, "--overwrite")
    assert result.returncode == 0 and '"0000"' in (dense / "image_classes.json").read_text()


def _terminate_while_writing(command, watch, tmp_path):
    """Start ``command``, SIGTERM it once a temporary path (``.*.tmp*``) appears under
    ``watch``, and return (exit status, what is left under ``watch``)."""
    import signal
    import time

    env = dict(os.environ, OMP_NUM_THREADS="1")
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list(watch.glob(".*.tmp*")) and process.poll() is None:
        assert time.monotonic() < deadline, "no temporary output appeared"
        time.sleep(0.01)
    assert process.poll() is None, "the tool finished before it could be interrupted"
    time.sleep(0.3)  # well inside the write
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)
    return process.returncode, sorted(p.name for p in watch.iterdir())


def test_sigterm_leaves_no_temporary_file(tmp_path):
    dense = tmp_path / "dense"
    dense.mkdir()
    rng = np.random.default_rng(0)
    for i in range(600):
        _write(dense / f"{i:04d}.png", rng.integers(0, 6, (96, 96)))
    out_root = tmp_path / "sparse"
    out_root.mkdir()
    status, left = _terminate_while_writing(
        [sys.executable, str(REPO / "datasets_prep" / "make_clicks.py"), "--dense", str(dense),
         "--out-root", str(out_root), "--clicks", "3"], out_root, tmp_path)
    assert status == 143 and left == []  # SystemExit(128 + SIGTERM) after the clean-up
    root = tmp_path / "synthetic"
    root.mkdir()
    status, left = _terminate_while_writing(
        [sys.executable, str(REPO / "datasets_prep" / "make_synthetic.py"), "--root", str(root),
         "--n-train", "3000", "--size", "64"], root, tmp_path)
    assert status == 143 and left == []


def test_tool_counts_that_mean_nothing_are_refused(predict, data, weights, capsys, tmp_path):
    status, io = _predict(predict, capsys, "--input", data / "images" / "val", "--output",
                          tmp_path / "pred", "--batch-size", 0, "MODEL.WEIGHTS", weights)
    assert status == 2 and "--batch-size 0: expected 1 or more" in io.err
    visualize = _script("visualize")
    status = visualize.main(["--config-file", DEMO, "--dataset", "fault_train", "--num", "0",
                             "--output", str(tmp_path / "vis"), *TINY, "MODEL.WEIGHTS",
                             str(weights)])
    assert status == 2 and "--num 0: expected 1 or more" in capsys.readouterr().err
    assert not (tmp_path / "pred").exists() and not (tmp_path / "vis").exists()


def test_prep_tools_find_labels_whatever_the_case_of_their_suffix(tiny_synthetic, tmp_path):
    dense = tmp_path / "dense"
    shutil.copytree(tiny_synthetic / "agmm_synthetic" / "dense" / "train", dense)
    (dense / "0000.png").rename(dense / "0000.PNG")
    (dense / "._0001.png").write_bytes(b"\0\5\26\7")  # a macOS resource fork: not a label
    result = _tool("make_clicks", "--dense", dense, "--out-root", tmp_path / "out", "--clicks", 2)
    assert result.returncode == 0, result.stderr
    written = sorted(p.name for p in (tmp_path / "out" / "2clicks_seed0").glob("*.png"))
    assert len(written) == 12 and "0000.png" in written
