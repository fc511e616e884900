"""The shared parts of the fault tests (tests/*/test_faults.py): a copy of the tiny synthetic set
registered as fault_train / fault_val, a model trained for 2 iterations, and the tools run as a
user runs them. ``tests/conftest.py`` loads this module as a pytest plugin."""
import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from detectron2.data import DatasetCatalog, MetadataCatalog
from PIL import Image

from agmm_d2.data import register_sparse_sem_seg
from agmm_d2.data.synthetic import CLASSES

REPO = Path(__file__).resolve().parents[1]
DEMO = str(REPO / "configs" / "synthetic" / "points_released.yaml")
# The demo architecture, narrower, on 64-px images: seconds per run (as in test_train_net.py).
TINY = ["SOLVER.IMS_PER_BATCH", "4", "INPUT.CROP.SIZE", "(64, 64)", "DATALOADER.NUM_WORKERS", "0",
        "MODEL.RESNETS.WIDTH_PER_GROUP", "4", "MODEL.RESNETS.RES2_OUT_CHANNELS", "16",
        "MODEL.RESNETS.STEM_OUT_CHANNELS", "8", "SOLVER.MAX_ITER", "2"]
DATASETS = ["DATASETS.TRAIN", "('fault_train',)", "DATASETS.TEST", "('fault_val',)"]


def cli_module(name):
    """The module behind a tool's script (its ``main``/``cli``)."""
    return importlib.import_module(f"agmm_d2.cli.{name}")


@pytest.fixture(scope="module")
def train_net():
    return cli_module("train_net")


@pytest.fixture(scope="module")
def predict():
    return cli_module("predict")


@pytest.fixture
def scan_cache(tmp_path, monkeypatch):
    """A scan cache of this test's own (a shared one would hide a file read once before); every
    fault test uses it, through its module's pytestmark."""
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


def run_train_net(train_net, capsys, *opts, flags=()):
    """train_net.main in this process (one process: it trains here) with ``flags`` and the config
    overrides ``opts``; (status, stderr)."""
    status = train_net.main([*flags, "--config-file", DEMO, *TINY, *DATASETS, *map(str, opts)])
    return status, capsys.readouterr().err


def run_tool(name, *args):
    return subprocess.run([sys.executable, str(REPO / "datasets_prep" / f"{name}.py"),
                           *map(str, args)], cwd=REPO, capture_output=True, text=True, timeout=120)


def write_png(path, array, mode=None):
    Image.fromarray(np.asarray(array, np.uint8), mode=mode).save(path)


def truncated_image(path):
    path.write_bytes(path.read_bytes()[:200])


@pytest.fixture(scope="session")
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


def run_predict(predict, capsys, *args):
    status = predict.main(["--config-file", DEMO, *map(str, args), *TINY])
    return status, capsys.readouterr()


def registration_file(path, root, *, colors=True):
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
