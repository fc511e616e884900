"""agmm_d2.engine: datasets registered by the user reach every process (the Python API, and
train_net.py --register), package loggers reach log.txt, renamed config values."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from detectron2.data import DatasetCatalog, MetadataCatalog

from agmm_d2.api import build_config, evaluate, train
from agmm_d2.data import register_sparse_sem_seg
from agmm_d2.data.sparse_labels import make_clicks
from agmm_d2.data.synthetic import CLASSES
from agmm_d2.engine import DatasetSnapshot, run_registrations
from agmm_d2.modeling import AGMMLoss
from agmm_d2.utils.errors import InputError

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "configs" / "synthetic/20clicks_released.yaml"
# The demo architecture, narrower, on 64-px images: seconds per run (as in test_train_net.py).
TINY = {"SOLVER.IMS_PER_BATCH": 4, "INPUT.CROP.SIZE": (64, 64), "DATALOADER.NUM_WORKERS": 0,
        "MODEL.RESNETS.WIDTH_PER_GROUP": 4, "MODEL.RESNETS.RES2_OUT_CHANNELS": 16,
        "MODEL.RESNETS.STEM_OUT_CHANNELS": 8, "SOLVER.MAX_ITER": 2}

REGISTRATION = '''
from agmm_d2.data import register_sparse_sem_seg
CLASSES = {classes!r}
register_sparse_sem_seg("my_folder_train", {images!r}, {clicks!r}, classes=CLASSES,
                        image_ext=".png")
register_sparse_sem_seg("my_folder_val", {val_images!r}, None, {val_masks!r}, classes=CLASSES,
                        image_ext=".png")
'''


@pytest.fixture(scope="module")
def my_folder(tiny_synthetic, tmp_path_factory):
    """A user's folder: images and dense masks (the tiny synthetic set), with 20 clicks per
    image made by our tool; the code that registers it, in a file."""
    root = tiny_synthetic / "agmm_synthetic"
    work = tmp_path_factory.mktemp("my_folder")
    clicks = make_clicks(root / "dense" / "train", work, clicks=20)
    code = REGISTRATION.format(classes=list(CLASSES), images=str(root / "images" / "train"),
                               clicks=str(clicks), val_images=str(root / "images" / "val"),
                               val_masks=str(root / "dense" / "val"))
    (work / "my_datasets.py").write_text(code)
    return work


@pytest.fixture
def single_thread(monkeypatch):
    """One thread per process, in spawned processes too: two processes share the cores."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")


def _forget(*names):
    for name in names:
        if name in DatasetCatalog.list():
            DatasetCatalog.remove(name)
            MetadataCatalog.remove(name)


@pytest.mark.slow
def test_cli_register_file_reaches_two_processes(my_folder, tmp_path):
    """The dataset exists only in the user's file: train_net.py --register runs it in the
    parent (preflight) and in both training processes."""
    out = tmp_path / "run"
    overrides = [x for k, v in TINY.items() for x in (k, repr(v))]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    result = subprocess.run(
        [sys.executable, str(REPO / "tools" / "train_net.py"), "--config-file", str(DEMO),
         "--num-gpus", "2", "--dist-url", "auto", "--register", str(my_folder / "my_datasets.py"),
         "DATASETS.TRAIN", "('my_folder_train',)", "DATASETS.TEST", "('my_folder_val',)",
         *overrides, "OUTPUT_DIR", str(out)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    log = (out / "log.txt").read_text()
    assert "World size: 2" in log and "my_folder_val: mIoU" in log
    assert (out / "log.txt.rank1").is_file() and (out / "model_final.pth").is_file()


@pytest.mark.slow
def test_cli_register_errors_are_one_line(tmp_path):
    for spec, message in [(str(tmp_path / "nope.py"), "no such file"),
                          ("no_such_module_xyz", "no module named 'no_such_module_xyz'")]:
        result = subprocess.run(
            [sys.executable, str(REPO / "tools" / "train_net.py"), "--config-file", str(DEMO),
             "--register", spec], cwd=REPO, capture_output=True, text=True, timeout=120)
        assert result.returncode == 2, result.stderr[-2000:]
        assert result.stderr.strip().count("\n") == 0 and message in result.stderr


@pytest.mark.slow
def test_api_trains_a_dataset_registered_here_with_two_processes(my_folder, tmp_path,
                                                                 single_thread, capfd):
    """Registered in this process only, trained by two spawned processes without --register;
    the run's log is followed here and the final evaluation is returned."""
    code = (my_folder / "my_datasets.py").read_text()
    exec(code.replace("my_folder_", "api_folder_"), {})  # a notebook cell, in effect
    try:
        cfg = build_config(DEMO, {**TINY, "DATASETS.TRAIN": ("api_folder_train",),
                                  "DATASETS.TEST": ("api_folder_val",),
                                  "OUTPUT_DIR": str(tmp_path / "run")})
        results = train(cfg, num_processes=2)
        assert 0 <= results["sem_seg"]["mIoU"] <= 100
        assert "World size: 2" in (tmp_path / "run" / "log.txt").read_text()
        assert "api_folder_val: mIoU" in capfd.readouterr().out  # the log, followed here
        again = evaluate(cfg, num_processes=1, progress=False)
        assert again["sem_seg"]["mIoU"] == pytest.approx(results["sem_seg"]["mIoU"], abs=5)
    finally:
        _forget("api_folder_train", "api_folder_val")


def test_snapshot_carries_a_notebook_function(tmp_path):
    """A loader defined at run time (as in a notebook) is restored in a new registry."""
    import pickle

    rows = [{"file_name": "a.png"}]
    DatasetCatalog.register("snap_fn", lambda: rows)
    MetadataCatalog.get("snap_fn").set(stuff_classes=["a", "b"])
    try:
        blob = pickle.dumps(DatasetSnapshot(["snap_fn"]))
        _forget("snap_fn")
        pickle.loads(blob).restore()
        assert DatasetCatalog.get("snap_fn") == rows
        assert MetadataCatalog.get("snap_fn").stuff_classes == ["a", "b"]
    finally:
        _forget("snap_fn")
    with pytest.raises(InputError, match="not registered"):
        DatasetSnapshot(["snap_missing"])


def test_run_registrations_runs_each_spec_once(tmp_path, monkeypatch):
    counter = tmp_path / "count.txt"
    spec = tmp_path / "reg.py"
    spec.write_text(f"import pathlib\np = pathlib.Path({str(counter)!r})\n"
                    "p.write_text(str(int(p.read_text() or 0) + 1) if p.exists() else '1')\n")
    assert run_registrations([str(spec)]) == [str(spec)]
    assert run_registrations([str(spec)]) == []
    assert counter.read_text() == "1"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "user_regs_mod.py").write_text("VALUE = 1\n")
    assert run_registrations(["user_regs_mod"]) == ["user_regs_mod"]
    with pytest.raises(InputError, match="no module named"):
        run_registrations(["user_regs_missing"])


def test_package_warnings_reach_the_log_file(tiny_synthetic, tmp_path, single_thread):
    """A warning of agmm_d2.data (an image without its label is skipped) is in log.txt."""
    root = tiny_synthetic / "agmm_synthetic"
    images = tmp_path / "images"
    images.mkdir()
    for p in sorted((root / "images" / "train").glob("*.png"))[:5]:
        (images / p.name).write_bytes(p.read_bytes())
    (images / "unlabeled.png").write_bytes(p.read_bytes())
    register_sparse_sem_seg("log_train", images, root / "point" / "train", classes=CLASSES,
                            image_ext=".png")
    try:
        cfg = build_config(DEMO, {**TINY, "SOLVER.MAX_ITER": 1, "DATASETS.TRAIN": ("log_train",),
                                  "DATASETS.TEST": (), "OUTPUT_DIR": str(tmp_path / "run")})
        train(cfg, progress=False)
    finally:
        _forget("log_train")
    log = (tmp_path / "run" / "log.txt").read_text()
    assert "agmm.data.datasets.generic WARNING: dataset under " in log
    assert "5 images used, 8 file(s) left out (7 label_without_image, 1 missing_label)" in log
    assert "Sparse-label augmentations" in log  # the mapper's info line too


def test_renamed_values_keep_working_with_a_warning(agmm_warnings):
    cfg = build_config(DEMO, ["MODEL.AGMM.ABSENT_FROM", "image_labels",
                              "MODEL.AGMM.FEATURE_NORM", "l2"])
    assert (cfg.MODEL.AGMM.ABSENT_FROM, cfg.MODEL.AGMM.FEATURE_NORM) == ("image_classes", "rms")
    assert "'image_labels' is now called 'image_classes'" in agmm_warnings.text
    assert "'l2' is now called 'rms'" in agmm_warnings.text
    with pytest.raises(ValueError, match="'l2' is now called 'rms'"):
        AGMMLoss(feature_norm="l2")


def test_build_config_takes_python_values_and_rejects_odd_lists():
    cfg = build_config(DEMO, {"SOLVER.BASE_LR": 0.5, "DATASETS.TRAIN": ("a", "b")})
    assert cfg.SOLVER.BASE_LR == 0.5 and cfg.DATASETS.TRAIN == ("a", "b")
    with pytest.raises(InputError, match="KEY VALUE pairs"):
        build_config(DEMO, ["SOLVER.BASE_LR"])
