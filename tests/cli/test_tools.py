"""tools/predict.py and tools/visualize.py on a demo model trained for a few iterations, and the
training metrics they rely on."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from agmm_d2.data.synthetic import CLASSES

# Every test here uses a model trained by the module's fixture.
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
DEMO = "configs/synthetic/points_released.yaml"
# The demo architecture, narrower, on the 64-px tiny dataset (as in test_train_net.py).
TINY = ["INPUT.CROP.SIZE", "(64, 64)", "DATALOADER.NUM_WORKERS", "0",
        "MODEL.RESNETS.WIDTH_PER_GROUP", "4", "MODEL.RESNETS.RES2_OUT_CHANNELS", "16",
        "MODEL.RESNETS.STEM_OUT_CHANNELS", "8"]


def run_script(relative_path, tiny_root, *args):
    """Run the repository's script at ``relative_path`` on the tiny dataset."""
    env = dict(os.environ, DETECTRON2_DATASETS=str(tiny_root))
    return subprocess.run([sys.executable, str(REPO / relative_path), *map(str, args)], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=300)


def run_tool(tool, tiny_root, *args):
    return run_script(f"tools/{tool}", tiny_root, *args)


@pytest.fixture(scope="module")
def trained(tiny_synthetic, tmp_path_factory):
    """Output folder of the demo config trained for 4 iterations on the tiny dataset."""
    out = tmp_path_factory.mktemp("demo_model")
    result = run_tool("train_net.py", tiny_synthetic, "--config-file", DEMO, *TINY,
                      "SOLVER.IMS_PER_BATCH", 4, "SOLVER.MAX_ITER", 4, "OUTPUT_DIR", out)
    assert result.returncode == 0, result.stderr[-4000:]
    return out


def test_every_agmm_term_is_in_the_training_metrics(trained):
    records = [json.loads(line) for line in (trained / "metrics.json").read_text().splitlines()]
    logged = set().union(*records)
    assert {"loss_sem_seg", "loss_absent", "loss_proto", "loss_gmm", "total_loss"} <= logged
    assert list(trained.glob("events.out.tfevents.*")), "no TensorBoard event file"


def test_predict_writes_ids_and_colors_and_reports_bad_files(trained, tiny_synthetic, tmp_path):
    images = tmp_path / "images"
    shutil.copytree(tiny_synthetic / "agmm_synthetic" / "images" / "val", images)
    (images / "notes.txt").write_text("not an image")
    (images / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    out = tmp_path / "pred"
    result = run_tool("predict.py", tiny_synthetic, "--config-file", DEMO, "--input", images,
                      "--output", out, *TINY, "MODEL.WEIGHTS", trained / "model_final.pth")
    assert result.returncode == 1, result.stderr[-4000:]  # 1: some files were skipped
    assert "notes.txt" in result.stderr and "broken.png" in result.stderr
    originals = sorted(p for p in images.glob("*.png") if p.name != "broken.png")
    assert len(originals) == 6
    for image in originals:
        size = Image.open(image).size
        ids = Image.open(out / "ids" / image.name)
        color = Image.open(out / "color" / image.name)
        assert ids.mode == "L" and ids.size == size
        assert color.mode == "RGB" and color.size == size
        assert np.asarray(ids).max() < len(CLASSES)
    assert not (out / "ids" / "notes.png").exists() and not (out / "ids" / "broken.png").exists()


def test_predict_with_missing_weights_stops_with_a_clear_message(tiny_synthetic, tmp_path):
    result = run_tool("predict.py", tiny_synthetic, "--config-file", DEMO, "--input", tmp_path,
                      "--output", tmp_path / "out", "MODEL.WEIGHTS", tmp_path / "nope.pth")
    assert result.returncode == 2
    assert "nope.pth" in result.stderr and "no such file" in result.stderr
    assert "Traceback" not in result.stderr


def test_visualize_writes_one_panel_per_image(trained, tiny_synthetic, tmp_path):
    out = tmp_path / "vis"
    result = run_tool("visualize.py", tiny_synthetic, "--config-file", DEMO, "--dataset",
                      "synthetic_train_points", "--num", 2, "--classes", "background",
                      "--output", out, *TINY, "MODEL.WEIGHTS", trained / "model_final.pth")
    assert result.returncode == 0, result.stderr[-4000:]
    panels = sorted(out.glob("*.png"))
    assert [p.stem for p in panels] == ["0000", "0001"]
    for panel in panels:
        width, height = Image.open(panel).size
        # image, sparse, dense, prediction, one response: 5 tiles of 64 px, 4 px apart, titled.
        assert (width, height) == (5 * 64 + 4 * 4, 64 + 18)


def test_visualize_rejects_unknown_class(trained, tiny_synthetic, tmp_path):
    result = run_tool("visualize.py", tiny_synthetic, "--config-file", DEMO, "--classes", "zebra",
                      "--output", tmp_path, *TINY, "MODEL.WEIGHTS", trained / "model_final.pth")
    assert result.returncode == 2 and "zebra" in result.stderr


def test_gmm_diagnostics_reports_each_checkpoint(trained, tiny_synthetic):
    """tools/gmm_diagnostics.py: a row per weights file, IoUs in %, a norm per term."""
    weights = trained / "model_final.pth"
    result = run_script("tools/gmm_diagnostics.py", tiny_synthetic, "--config-file", DEMO,
                        "--weights", weights, "--weights", weights, "--images", 3, "--markdown",
                        *TINY, "SOLVER.IMS_PER_BATCH", 2)
    assert result.returncode == 0, result.stderr[-4000:]
    lines = [line for line in result.stdout.splitlines() if line.startswith("|")]
    head = [c.strip() for c in lines[0].strip("|").split("|")]
    assert head[2:2 + len(CLASSES)] == [f"{c}: R / P" for c in CLASSES]
    assert {"grad loss_sem_seg", "grad loss_proto", "grad loss_gmm"} <= set(head)
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:]]
    assert len(rows) == 2 and rows[0][0] == f"{trained.name}/model_final.pth"
    # The same weights give the same IoUs (the gradient batch is augmented at random).
    assert rows[0][1:2 + len(CLASSES)] == rows[1][1:2 + len(CLASSES)]
    r_miou, p_miou = map(float, rows[0][1].split(" / "))
    assert 0 <= r_miou <= 100 and 0 <= p_miou <= 100
    assert float(rows[0][head.index("grad loss_sem_seg")]) > 0
