"""Throughput of predict.py's backends on the CPU, one thread: torch, torchscript, onnxruntime.

    python benchmarks/predict_backends.py --config-file configs/synthetic/demo.yaml
    python benchmarks/predict_backends.py --size 256 256 --runs 7 \\
        --config-file configs/synthetic/demo.yaml \\
        MODEL.WEIGHTS output/synthetic/demo/model_final.pth

Exports the model of the config (MODEL.WEIGHTS, or its initial weights when empty: speed does
not depend on their values) to TorchScript and ONNX in a temporary folder, then predicts
--images random images of --size with each backend (PyTorch: the detectron2 model's inference;
TorchScript and ONNX Runtime: the exported files, run by ``agmm_d2.predict.exported``), one
image at a time, in --runs runs interleaved across backends (images to class ids, file reading
and writing excluded), all in this process. Prints the median images per second and the ratio
to torch, all from this one invocation.
"""
import statistics
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List

import numpy as np
import torch
from detectron2.checkpoint import DetectionCheckpointer
from detectron2.modeling import build_model

from agmm_d2.cli.options import add_config_arguments, tool_parser
from agmm_d2.engine import build_config
from agmm_d2.engine.checkpoint import load_weights
from agmm_d2.export import export_model
from agmm_d2.predict.exported import ExportedSegmenter

__all__ = ["backend_predictors", "format_table", "images_per_second", "main", "measure"]


def _random_images(count: int, height: int, width: int) -> List[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (height, width, 3), dtype=np.uint8) for _ in range(count)]


def backend_predictors(cfg, folder: Path) -> Dict[str, Callable]:
    """backend -> predict(image (H, W, 3) uint8) -> (H, W) ids, for the model of ``cfg`` (its
    MODEL.WEIGHTS, or its initial weights when empty), exported into ``folder``."""
    cfg = cfg.clone()
    cfg.defrost()
    cfg.MODEL.DEVICE = "cpu"
    model = build_model(cfg).eval()
    if not cfg.MODEL.WEIGHTS:  # speed does not depend on the weights' values
        DetectionCheckpointer(model, str(folder)).save("initial")
        cfg.MODEL.WEIGHTS = str(folder / "initial.pth")
    load_weights(model, cfg.MODEL.WEIGHTS)
    export_model(cfg, "torchscript", "tracing", folder)
    export_model(cfg, "onnx", "tracing", folder)

    @torch.no_grad()
    def torch_predict(image):
        tensor = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))
        return model([{"image": tensor}])[0]["sem_seg"].argmax(0).to(torch.uint8).numpy()

    return {"torch": torch_predict,
            "torchscript": ExportedSegmenter(folder, "torchscript"),
            "onnxruntime": ExportedSegmenter(folder / "model.onnx", "onnxruntime", threads=1)}


def images_per_second(predict: Callable, images: List[np.ndarray], runs: int) -> List[float]:
    """One rate per run over ``images``, after one warm-up image."""
    predict(images[0])
    rates = []
    for _ in range(runs):
        start = time.perf_counter()
        for image in images:
            predict(image)
        rates.append(len(images) / (time.perf_counter() - start))
    return rates


def measure(cfg, height: int, width: int, count: int, runs: int) -> Dict[str, List[float]]:
    """backend -> images per second of each run, on one CPU thread."""
    torch.set_num_threads(1)
    images = _random_images(count, height, width)
    with tempfile.TemporaryDirectory() as tmp:
        predictors = backend_predictors(cfg, Path(tmp))
        # Interleaved runs: a slower or busier moment of the machine hits every backend alike.
        rates = {name: [] for name in predictors}
        for _ in range(runs):
            for name, predict in predictors.items():
                rates[name] += images_per_second(predict, images, 1)
    return rates


def format_table(rates: Dict[str, List[float]], height: int, width: int) -> str:
    """Markdown table: median images/s and the ratio to the torch backend's median."""
    base = statistics.median(rates["torch"])
    lines = [f"| backend ({height}x{width}, CPU, 1 thread) | images/s (median) | vs torch |",
             "| --- | --- | --- |"]
    for name, values in rates.items():
        median = statistics.median(values)
        lines.append(f"| {name} | {median:.2f} | {median / base:.2f}x |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = tool_parser(__doc__)
    parser.add_argument("--size", type=int, nargs=2, default=(128, 128), metavar=("H", "W"))
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    add_config_arguments(parser)
    args = parser.parse_args(argv)
    cfg = build_config(args.config_file, args.opts)
    rates = measure(cfg, *args.size, args.images, args.runs)
    print(format_table(rates, *args.size))
    return 0
