"""Export to TorchScript and ONNX, and the exported-model runner (predict.py --backend).

A briefly trained tiny model is exported; on 5 images of different sizes the exported files give
the PyTorch model's probabilities within 1e-4 (max abs) and its argmax on >= 99.9 % of pixels.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from detectron2.modeling import build_model
from PIL import Image

from agmm_d2.api import build_config, train
from agmm_d2.engine.checkpoint import load_weights
from agmm_d2.export import export_model
from agmm_d2.predict.exported import ExportedSegmenter, resized_shape
from agmm_d2.predict.files import read_image
from agmm_d2.utils.errors import InputError

REPO = Path(__file__).resolve().parents[2]
DEMO = "configs/synthetic/demo.yaml"
TINY = {"MODEL.RESNETS.WIDTH_PER_GROUP": 4, "MODEL.RESNETS.RES2_OUT_CHANNELS": 16,
        "MODEL.RESNETS.STEM_OUT_CHANNELS": 8}
# (height, width) of the 5 test images: odd, non-square, not multiples of the divisibility.
SIZES = [(64, 64), (50, 77), (97, 41), (33, 120), (128, 96)]
PROB_ATOL = 1e-4
ARGMAX_AGREEMENT = 0.999


@pytest.fixture(scope="module")
def trained(tiny_synthetic, tmp_path_factory):
    """(config, weights) of the tiny demo model trained for 20 iterations on 64-px crops."""
    out = tmp_path_factory.mktemp("trained")
    os.environ["DETECTRON2_DATASETS"] = str(tiny_synthetic)
    cfg = build_config(DEMO, {**TINY, "SOLVER.IMS_PER_BATCH": 4, "INPUT.CROP.SIZE": (64, 64),
                              "DATALOADER.NUM_WORKERS": 0, "SOLVER.MAX_ITER": 20,
                              "DATASETS.TEST": (), "OUTPUT_DIR": str(out)})
    train(cfg, progress=False, check_data=False)
    weights = out / "model_final.pth"
    return build_config(DEMO, {**TINY, "MODEL.WEIGHTS": str(weights)}), weights


@pytest.fixture(scope="module")
def images(tiny_synthetic):
    """5 RGB uint8 images of SIZES, cut and resized from the synthetic validation images."""
    files = sorted((tiny_synthetic / "agmm_synthetic" / "images" / "val").glob("*.png"))
    return [np.asarray(Image.open(f).convert("RGB").resize((w, h), Image.BILINEAR))
            for f, (h, w) in zip(files, SIZES)]


@pytest.fixture(scope="module")
def pytorch_probabilities(trained, images):
    """The PyTorch model's (K, H, W) probabilities of each image (its inference path)."""
    cfg, weights = trained
    model = load_weights(build_model(cfg).eval(), str(weights))
    with torch.no_grad():
        return [model([{"image": torch.from_numpy(im.transpose(2, 0, 1).copy())}])[0]["sem_seg"]
                for im in images]


@pytest.fixture(scope="module")
def exported(trained, tmp_path_factory):
    """Folder with model.ts, model.onnx and their JSON files (ONNX only where onnx is installed)."""
    out = tmp_path_factory.mktemp("exported")
    export_model(trained[0], "torchscript", "tracing", out)
    try:
        import onnx  # noqa: F401
    except ImportError:
        return out
    export_model(trained[0], "onnx", "tracing", out)
    return out


def _check_matches(segmenter, images, reference):
    for image, ref in zip(images, reference):
        probs = segmenter.probabilities(image)
        assert probs.shape == ref.shape
        difference = float((probs - ref).abs().max())
        assert difference <= PROB_ATOL, (image.shape, difference)
        agreement = float((probs.argmax(0) == ref.argmax(0)).float().mean())
        assert agreement >= ARGMAX_AGREEMENT, (image.shape, agreement)


def test_torchscript_matches_pytorch_at_five_sizes(exported, images, pytorch_probabilities):
    _check_matches(ExportedSegmenter(exported, "torchscript"), images, pytorch_probabilities)


def test_onnx_matches_pytorch_at_five_sizes(exported, images, pytorch_probabilities):
    pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (the [export] extra)")
    _check_matches(ExportedSegmenter(exported, "onnxruntime"), images, pytorch_probabilities)


def test_sidecar_holds_what_the_runner_needs(exported):
    info = json.loads((exported / "model.ts.json").read_text())
    assert info["format"] == "torchscript" and info["model_file"] == "model.ts"
    assert info["num_classes"] == 6 == len(info["class_names"]) == len(info["class_colors"])
    assert info["input_format"] == "RGB" and len(info["pixel_mean"]) == 3
    assert info["torch_version"] == torch.__version__ and info["opset"] is None
    assert any("test-time augmentation" in x for x in info["not_exported"])
    assert not [p for p in exported.iterdir() if p.name.startswith(".")]  # no temporary left


def test_scripting_is_refused_with_the_reason(trained, tmp_path):
    with pytest.raises(InputError, match="--export-method scripting: this model cannot be"):
        export_model(trained[0], "torchscript", "scripting", tmp_path / "out")
    assert not (tmp_path / "out" / "model.ts").exists()


def test_resized_shape_is_detectron2s():
    from detectron2.data.transforms import ResizeShortestEdge

    for h, w, short, longest in [(97, 41, 48, 80), (33, 120, 48, 80), (64, 64, 170, 1000),
                                 (481, 1000, 170, 300)]:
        assert resized_shape(h, w, short, longest) == \
            ResizeShortestEdge.get_output_shape(h, w, short, longest)


def _predict(*args, env=None):
    return subprocess.run([sys.executable, "tools/predict.py", *map(str, args)], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=300)


def _ids(folder):
    return {p.name: np.asarray(Image.open(p)) for p in sorted((folder / "ids").glob("*.png"))}


def _hidden(tmp_path, *modules):
    """Environment where importing ``modules`` raises ImportError, as if not installed."""
    shadow = tmp_path / "hidden"
    for name in modules:
        (shadow / name).mkdir(parents=True)
        (shadow / name / "__init__.py").write_text(f"raise ImportError('{name} is hidden')\n")
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(shadow), str(REPO)]),
                OMP_NUM_THREADS="1")


@pytest.fixture(scope="module")
def demo_images(tiny_synthetic):
    return tiny_synthetic / "agmm_synthetic" / "images" / "val"


@pytest.fixture(scope="module")
def resized_export(trained, tmp_path_factory):
    """An ONNX and a TorchScript export with a test size (48 px shorter edge), so that the
    runner's resizing is compared with the torch predictor's too."""
    pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (the [export] extra)")
    cfg, weights = trained
    opts = {**TINY, "MODEL.WEIGHTS": str(weights), "INPUT.MIN_SIZE_TEST": 48,
            "INPUT.MAX_SIZE_TEST": 80}
    out = tmp_path_factory.mktemp("resized_export")
    export_model(build_config(DEMO, opts), "onnx", "tracing", out)
    export_model(build_config(DEMO, opts), "torchscript", "tracing", out)
    return out, [x for k, v in opts.items() for x in (k, v)]


@pytest.mark.slow
def test_predict_onnx_backend_writes_the_torch_backends_ids(resized_export, demo_images,
                                                            tmp_path):
    """predict.py --backend onnxruntime and torchscript, with detectron2 hidden, write the same
    id PNGs as --backend torch."""
    model_dir, opts = resized_export
    env = dict(os.environ, OMP_NUM_THREADS="1")
    torch_run = _predict("--config-file", DEMO, "--input", demo_images, "--output",
                         tmp_path / "torch", *opts, env=env)
    assert torch_run.returncode == 0, torch_run.stderr
    hidden = _hidden(tmp_path, "detectron2")
    for backend, model in [("onnxruntime", model_dir / "model.onnx"), ("torchscript", model_dir)]:
        run = _predict("--backend", backend, "--model", model, "--input", demo_images,
                       "--output", tmp_path / backend, env=hidden)
        assert run.returncode == 0, run.stderr
        assert "wrote 6 predictions (12 files)" in run.stdout
        reference, ids = _ids(tmp_path / "torch"), _ids(tmp_path / backend)
        assert ids.keys() == reference.keys() and len(ids) == 6
        for name in ids:
            np.testing.assert_array_equal(ids[name], reference[name], err_msg=name)


def test_missing_onnxruntime_is_one_line(exported, demo_images, tmp_path):
    run = _predict("--backend", "onnxruntime", "--model", exported, "--input", demo_images,
                   "--output", tmp_path / "out", env=_hidden(tmp_path, "onnxruntime", "detectron2"))
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        'predict.py: error: --backend onnxruntime needs onnxruntime, which is not installed: '
        'pip install -e ".[export]"']


def test_runner_errors_name_the_argument(exported, tmp_path):
    with pytest.raises(InputError, match="--model .*: no such file"):
        ExportedSegmenter(tmp_path / "nothing.onnx", "onnxruntime")
    with pytest.raises(InputError, match="lonely.ts.json: no such file"):
        (tmp_path / "lonely.ts").write_bytes((exported / "model.ts").read_bytes())
        ExportedSegmenter(tmp_path / "lonely.ts", "torchscript")


def test_read_image_is_detectron2s(demo_images):
    from detectron2.data.detection_utils import read_image as d2_read_image

    path = sorted(demo_images.glob("*.png"))[0]
    for fmt in ("RGB", "BGR"):
        np.testing.assert_array_equal(read_image(path, fmt), d2_read_image(str(path), fmt))


@pytest.mark.slow
def test_export_model_cli(trained, tmp_path):
    cfg, weights = trained
    opts = [x for k, v in TINY.items() for x in (k, v)]
    run = subprocess.run([sys.executable, "tools/export_model.py", "--config-file", DEMO,
                          "--format", "torchscript", "--output", str(tmp_path),
                          *map(str, opts), "MODEL.WEIGHTS", str(weights)],
                         cwd=REPO, capture_output=True, text=True, timeout=300,
                         env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "model.ts").is_file() and (tmp_path / "model.ts.json").is_file()
    bad = subprocess.run([sys.executable, "tools/export_model.py", "--config-file", DEMO,
                          "--format", "onnx", "--output", str(tmp_path / "x")],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "MODEL.WEIGHTS is empty" in bad.stderr
