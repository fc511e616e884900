"""Running an exported model (TorchScript or ONNX) on images, with its sidecar JSON only.

No detectron2 and no model code: the image is resized to the test size given by the sidecar
(shorter edge to ``min_size_test``, longer at most ``max_size_test``, as detectron2's
``ResizeShortestEdge`` with PIL's bilinear filter), the exported graph gives class probabilities,
and these are resized back bilinearly to the image's size before the argmax, as the PyTorch
predictor does. Whole-image inference only: test-time augmentation and the sliding window are
not in the exported graph.
"""
import sys
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from tqdm import tqdm

from ..utils.errors import InputError
from .files import (
    PredictionReport,
    check_output_folder,
    find_images,
    output_names,
    read_image,
    save_png,
)
from .sidecar import ExportInfo, sidecar_path

__all__ = ["EXPORTED_BACKENDS", "ExportedSegmenter", "predict_folder_exported", "resized_shape"]

# --backend value -> the sidecar "format" it runs.
EXPORTED_BACKENDS = {"torchscript": "torchscript", "onnxruntime": "onnx"}
_MODEL_FILES = {"torchscript": "model.ts", "onnx": "model.onnx"}
INSTALL_HINT = 'pip install -e ".[export]"'


def resized_shape(height: int, width: int, short: int, longest: int):
    """(new_h, new_w): shorter edge to ``short``, longer at most ``longest``; the rounding of
    detectron2's ``ResizeShortestEdge.get_output_shape``."""
    scale = short / min(height, width)
    new_h, new_w = (short, scale * width) if height < width else (scale * height, short)
    if max(new_h, new_w) > longest:
        shrink = longest / max(new_h, new_w)
        new_h, new_w = new_h * shrink, new_w * shrink
    return int(new_h + 0.5), int(new_w + 0.5)


def _onnx_runner(path: Path, threads: Optional[int]):
    try:
        import onnxruntime
    except ImportError:
        raise InputError(f"--backend onnxruntime needs onnxruntime, which is not installed: "
                         f"{INSTALL_HINT}") from None
    options = onnxruntime.SessionOptions()
    if threads:
        options.intra_op_num_threads = options.inter_op_num_threads = threads
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return lambda image: torch.from_numpy(session.run(None, {name: image.numpy()})[0])


def _model_file(model: Path, fmt: str) -> Path:
    """The exported file: ``model`` itself, or ``model/model.ts|onnx`` for a folder."""
    path = model / _MODEL_FILES[fmt] if model.is_dir() else model
    if not path.is_file():
        raise InputError(f"--model {model}: no such file (expected the {_MODEL_FILES[fmt]} "
                         "that export_model.py writes, or its folder)")
    return path


class ExportedSegmenter:
    """An exported model with its sidecar: (H, W, 3) uint8 image in the sidecar's input format
    -> (K, H, W) probabilities or (H, W) uint8 class ids."""

    def __init__(self, model: Union[str, Path], backend: str, threads: Optional[int] = None):
        """
        Args:
            model: the exported file (``model.ts`` / ``model.onnx``) or its folder; its JSON
                (``model.onnx.json`` / ``model.ts.json``) must lie beside it.
            backend: "torchscript" or "onnxruntime".
            threads: ONNX Runtime's threads (None: its default); TorchScript follows
                ``torch.set_num_threads``.
        """
        if backend not in EXPORTED_BACKENDS:
            raise InputError(f"--backend {backend!r}: expected one of {tuple(EXPORTED_BACKENDS)}")
        fmt = EXPORTED_BACKENDS[backend]
        self.path = _model_file(Path(model), fmt)
        self.info = ExportInfo.read(sidecar_path(self.path))
        if self.info.format != fmt:
            raise InputError(f"--model {self.path}: a {self.info.format} export; --backend "
                             f"{backend} runs {fmt} exports")
        self.run = (_onnx_runner(self.path, threads) if fmt == "onnx"
                    else torch.jit.load(str(self.path), map_location="cpu").eval())

    @torch.no_grad()
    def probabilities(self, image: np.ndarray) -> torch.Tensor:
        """(H, W, 3) uint8 -> (K, H, W) float32 class probabilities at the image's size."""
        height, width = image.shape[:2]
        if self.info.min_size_test:
            size = resized_shape(height, width, self.info.min_size_test, self.info.max_size_test)
            image = np.asarray(Image.fromarray(image).resize(size[::-1], Image.BILINEAR))
        tensor = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))[None]
        probs = self.run(tensor)
        if probs.shape[-2:] != (height, width):
            probs = F.interpolate(probs, size=(height, width), mode="bilinear",
                                  align_corners=False)
        return probs[0]

    def __call__(self, image: np.ndarray) -> np.ndarray:
        """(H, W, 3) uint8 -> (H, W) uint8 class ids."""
        return self.probabilities(image).argmax(0).to(torch.uint8).numpy()

    def palette(self) -> np.ndarray:
        """(256, 3) uint8: the sidecar's class colours, black elsewhere."""
        palette = np.zeros((256, 3), np.uint8)
        if self.info.class_colors:
            palette[: len(self.info.class_colors)] = np.asarray(self.info.class_colors, np.uint8)
        return palette


def predict_folder_exported(model, inputs: Sequence[str], output, backend: str, *,
                            overwrite: bool = False, progress: bool = True) -> PredictionReport:
    """``agmm_d2.api.predict_folder`` with an exported model: the same ``ids/`` and
    ``color/`` PNGs, image by image."""
    segmenter = ExportedSegmenter(model, backend)
    out = Path(output)
    check_output_folder(out, overwrite)
    files = find_images([str(i) for i in inputs])
    names, palette = output_names(files), segmenter.palette()
    report = PredictionReport()
    for (path, _), name in tqdm(list(zip(files, names)), unit="img", desc="predict",
                                disable=not progress):
        try:
            image = read_image(path, segmenter.info.input_format)
        except Exception as e:  # PIL raises several types for non-images
            report.skipped.append((path, f"not a readable image ({e})"))
            tqdm.write(f"skipping {path}: not a readable image ({e})", file=sys.stderr)
            continue
        ids = segmenter(image)
        for folder, array in (("ids", ids), ("color", palette[ids])):
            save_png(array, out / folder / name)
            report.written.append(out / folder / name)
    return report
