"""tools/train_net.py end to end on the CPU: 2 processes, eval-only, resume, bad inputs."""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from detectron2.data import DatasetCatalog, MetadataCatalog
from detectron2.modeling import build_model
from detectron2.projects.deeplab.lr_scheduler import WarmupPolyLR

from agmm_d2.data import register_sparse_sem_seg
from agmm_d2.data.synthetic import CLASSES
from agmm_d2.engine import Trainer, adapt_to_machine, build_config

REPO = Path(__file__).resolve().parents[2]
TRAIN_NET = REPO / "tools" / "train_net.py"
DEMO = "configs/synthetic/points_released.yaml"
# The demo architecture, narrower, on the 64-px tiny dataset: seconds per run.
TINY = ["SOLVER.IMS_PER_BATCH", "4", "INPUT.CROP.SIZE", "(64, 64)", "DATALOADER.NUM_WORKERS", "0",
        "MODEL.RESNETS.WIDTH_PER_GROUP", "4", "MODEL.RESNETS.RES2_OUT_CHANNELS", "16",
        "MODEL.RESNETS.STEM_OUT_CHANNELS", "8"]


@pytest.fixture(scope="module")
def train_net():
    """The module behind tools/train_net.py."""
    from agmm_d2.cli import train_net as module

    return module


def run(tiny_root, *args, timeout=300):
    """Run train_net.py from the repository root with the tiny dataset as DETECTRON2_DATASETS."""
    # One thread per process: two training processes share the machine's cores.
    env = dict(os.environ, DETECTRON2_DATASETS=str(tiny_root), OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, str(TRAIN_NET), *map(str, args)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)


def eval_results(output_dir):
    """SemSegEvaluator's saved metrics of synthetic_val under ``output_dir``."""
    path = Path(output_dir) / "inference" / "synthetic_val" / "sem_seg_evaluation.pth"
    return torch.load(path, weights_only=False)


@pytest.mark.slow
def test_two_cpu_processes_train_then_evaluate(tiny_synthetic, tmp_path):
    """--num-gpus 2 on the CPU: gloo, SyncBN resolved to BN; then --eval-only on 2 processes."""
    out = tmp_path / "train"
    result = run(tiny_synthetic, "--config-file", DEMO, "--num-gpus", 2, "--dist-url", "auto",
                 *TINY, "MODEL.RESNETS.NORM", "SyncBN", "MODEL.SEM_SEG_HEAD.NORM", "SyncBN",
                 "SOLVER.MAX_ITER", 3, "OUTPUT_DIR", out)
    assert result.returncode == 0, result.stderr[-4000:]
    log = (out / "log.txt").read_text()
    assert "World size: 2" in log and "SyncBN -> BN on the CPU" in log
    assert (out / "log.txt.rank1").is_file() and (out / "model_final.pth").is_file()
    assert "mIoU" in eval_results(out)

    evaluated = tmp_path / "eval"
    result = run(tiny_synthetic, "--config-file", DEMO, "--num-gpus", 2, "--dist-url", "auto",
                 "--eval-only", *TINY, "MODEL.WEIGHTS", out / "model_final.pth",
                 "OUTPUT_DIR", evaluated)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "World size: 2" in (evaluated / "log.txt").read_text()
    assert 0 <= eval_results(evaluated)["mIoU"] <= 100


@pytest.mark.slow
def test_resume_after_kill_then_eval_only_matches(tiny_synthetic, tmp_path):
    """Kill training after a checkpoint; --resume continues from there; --eval-only of the
    final model reproduces the evaluation at the end of training exactly."""
    out = tmp_path / "train"
    args = ["--config-file", DEMO, *TINY, "SOLVER.CHECKPOINT_PERIOD", 2, "OUTPUT_DIR", out]
    env = dict(os.environ, DETECTRON2_DATASETS=str(tiny_synthetic), OMP_NUM_THREADS="1")
    process = subprocess.Popen([sys.executable, str(TRAIN_NET), *map(str, args),
                                "SOLVER.MAX_ITER", "1000"], cwd=REPO, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while not (out / "last_checkpoint").is_file():
            assert process.poll() is None, "training stopped before its first checkpoint"
            assert time.monotonic() < deadline, "no checkpoint within 240 s"
            time.sleep(0.2)
    finally:
        process.kill()
        process.wait()
    last = (out / "last_checkpoint").read_text().strip()  # model_0000001.pth: iteration 1 done
    start = int(last[len("model_"):-len(".pth")]) + 1
    assert not (out / "model_final.pth").exists()

    result = run(tiny_synthetic, "--resume", *args, "SOLVER.MAX_ITER", start + 2)
    assert result.returncode == 0, result.stderr[-4000:]
    log = result.stdout + result.stderr
    assert f"Starting training from iteration {start}" in log
    assert "Starting training from iteration 0" not in log
    final = eval_results(out)

    evaluated = tmp_path / "eval"
    result = run(tiny_synthetic, "--eval-only", "--config-file", DEMO, *TINY,
                 "MODEL.WEIGHTS", out / "model_final.pth", "OUTPUT_DIR", evaluated)
    assert result.returncode == 0, result.stderr[-4000:]
    again = eval_results(evaluated)
    assert again["mIoU"] == final["mIoU"]
    assert {k: v for k, v in again.items() if k.startswith("IoU-")} == \
        {k: v for k, v in final.items() if k.startswith("IoU-")}


@pytest.fixture
def tiny_datasets(tiny_synthetic, tmp_path):
    """Temporary registrations: a tiny train/val pair, and a train set whose folder is missing."""
    base = tiny_synthetic / "agmm_synthetic"
    meta = dict(classes=CLASSES, image_ext=".png")
    register_sparse_sem_seg("tn_tiny_train", base / "images" / "train", base / "point" / "train",
                            **meta)
    register_sparse_sem_seg("tn_tiny_val", base / "images" / "val", None, base / "dense" / "val",
                            **meta)
    register_sparse_sem_seg("tn_missing_train", tmp_path / "nowhere" / "images",
                            tmp_path / "nowhere" / "point", **meta)
    yield ["DATASETS.TRAIN", "('tn_tiny_train',)", "DATASETS.TEST", "('tn_tiny_val',)"]
    for name in ("tn_tiny_train", "tn_tiny_val", "tn_missing_train"):
        DatasetCatalog.remove(name)
        MetadataCatalog.remove(name)


@pytest.mark.parametrize("args,message", [
    (["DATASETS.TRAIN", "('synthetic_train_pionts',)"],
     "dataset 'synthetic_train_pionts' is not registered; did you mean synthetic_train_points"),
    (["MODEL.WEIGHTS", "no/such/weights.pth"], "MODEL.WEIGHTS 'no/such/weights.pth': no such file"),
    (["MODEL.SEM_SEG_HEAD.NUM_CLASSES", "21"],
     "NUM_CLASSES is 21 but dataset 'tn_tiny_train' has 6 classes"),
    (["DATASETS.TRAIN", "('tn_missing_train',)"], "nowhere/images: does not exist"),
    (["MODEL.NO_SUCH_KEY", "1"], "Non-existent key: MODEL.NO_SUCH_KEY"),
    (["MODEL.AGMM.ABSENT_FROM", "image_classes"],
     "12 of 12 images of 'tn_tiny_train' have no image-level labels"),
    (["MODEL.AGMM.FEATURE_NORM", "L2"], "MODEL.AGMM.FEATURE_NORM is 'L2'; expected one of"),
])
def test_bad_input_stops_with_one_message(train_net, tiny_datasets, capsys, args, message):
    status = train_net.main(["--config-file", str(REPO / DEMO), *tiny_datasets, *args])
    err = capsys.readouterr().err.strip()
    assert status == 2
    assert err.startswith("train_net.py: error: ") and "\n" not in err and message in err, err


def test_missing_config_file(train_net, capsys):
    assert train_net.main(["--config-file", "configs/no_such.yaml"]) == 2
    assert "no such file" in capsys.readouterr().err


@pytest.mark.slow
def test_bad_input_with_two_processes_fails_before_spawning(tiny_synthetic):
    result = run(tiny_synthetic, "--config-file", DEMO, "--num-gpus", 2, "--dist-url", "auto",
                 "MODEL.SEM_SEG_HEAD.NUM_CLASSES", 7, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip() == ("train_net.py: error: MODEL.SEM_SEG_HEAD.NUM_CLASSES is 7 "
                                     "but dataset 'synthetic_train_points' has 6 classes")


def test_optimizer_gives_the_head_its_lr_multiplier_and_a_poly_schedule():
    cfg, _ = adapt_to_machine(build_config(REPO / "configs" / "voc/points_released.yaml",
                                           ["MODEL.DEVICE", "cpu"]))
    model = build_model(cfg)
    optimizer = Trainer.build_optimizer(cfg, model)
    lrs = {}
    for group in optimizer.param_groups:
        for p in group["params"]:
            lrs[id(p)] = group["lr"]
    assert {lrs[id(p)] for p in model.backbone.parameters()} == {0.001}
    assert all(lrs[id(p)] == pytest.approx(0.01) for p in model.sem_seg_head.parameters())
    assert optimizer.defaults["momentum"] == 0.9 and optimizer.defaults["weight_decay"] == 1e-4
    assert isinstance(Trainer.build_lr_scheduler(cfg, optimizer), WarmupPolyLR)
