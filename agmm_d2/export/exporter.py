"""Export a trained model to TorchScript or ONNX, with its sidecar JSON (agmm_d2.predict.sidecar).

The exported graph is ``ImageToProbabilities``: (1, 3, H, W) uint8 image in INPUT.FORMAT ->
(1, K, H, W) class probabilities, height and width free. Tracing records the padding to the size
divisibility from the input's shape, so the traced graph is checked at a second size before the
file is written. Test-time augmentation and the sliding window are not exported.
"""
import logging
import warnings
from pathlib import Path
from typing import List

import torch
from detectron2.data import MetadataCatalog
from detectron2.modeling import build_model

from ..engine.checkpoint import load_weights
from ..predict.sidecar import ExportInfo, sidecar_path
from ..utils.atomic import atomic_write
from ..utils.errors import InputError
from .module import ImageToProbabilities, example_image

__all__ = ["EXPORT_METHODS", "FORMATS", "ONNX_OPSET", "export_info", "export_model",
           "options_left_out"]

logger = logging.getLogger(__name__)

FORMATS = {"torchscript": "model.ts", "onnx": "model.onnx"}
EXPORT_METHODS = ("tracing", "scripting")
ONNX_OPSET = 17
# The traced graph must reproduce eager inference at another size to this max abs difference.
TRACE_CHECK_ATOL = 1e-5


def export_model(cfg, fmt: str, method: str, output_dir) -> Path:
    """Export ``cfg.MODEL.WEIGHTS`` (built from ``cfg``, on the CPU) as ``output_dir/model.ts``
    or ``model.onnx`` and its sidecar ``model.ts.json`` / ``model.onnx.json``; returns the
    model file's path.

    Raises InputError for an unknown format or method, and for scripting, which detectron2's
    ResNet backbone does not support.
    """
    if fmt not in FORMATS:
        raise InputError(f"--format {fmt!r}: expected one of {tuple(FORMATS)}")
    if method not in EXPORT_METHODS:
        raise InputError(f"--export-method {method!r}: expected one of {EXPORT_METHODS}")
    if fmt == "onnx":
        _require_onnx()
    cfg = _on_cpu(cfg)
    module = ImageToProbabilities(load_weights(build_model(cfg), cfg.MODEL.WEIGHTS)).eval()
    divisor = module.segmentor.size_divisibility
    # Not a multiple of the divisibility: the example input is padded, so padding is traced.
    example = example_image(3 * divisor + 5, 4 * divisor + 9)
    path = Path(output_dir) / FORMATS[fmt]
    with torch.no_grad():
        compiled = _compile(module, example, method)
        with atomic_write(path) as tmp:
            if fmt == "torchscript":
                compiled.save(str(tmp))
            else:
                _export_onnx(compiled, example, tmp)
    with atomic_write(sidecar_path(path)) as tmp:
        tmp.write_text(export_info(cfg, fmt, method, path.name, divisor).to_json())
    logger.info("Exported %s (%s) to %s", fmt, method, path)
    return path


def options_left_out(cfg) -> List[str]:
    """The inference options that ``cfg`` enables and the exported graph does not contain."""
    left_out = []
    if cfg.TEST.AUG.ENABLED:
        left_out.append("TEST.AUG (multi-scale and flip)")
    if cfg.TEST.SLIDING_WINDOW.ENABLED:
        left_out.append("TEST.SLIDING_WINDOW")
    return left_out


def _require_onnx() -> None:
    try:
        import onnx  # noqa: F401  torch.onnx.export writes through it
    except ImportError:
        raise InputError('--format onnx needs the onnx package: pip install -e ".[export]"') \
            from None


def _on_cpu(cfg):
    """``cfg`` with MODEL.DEVICE cpu and plain BN (SyncBN runs on GPUs only; same weights)."""
    cfg = cfg.clone()
    cfg.defrost()
    cfg.MODEL.DEVICE = "cpu"
    for node in (cfg.MODEL.RESNETS, cfg.MODEL.SEM_SEG_HEAD):
        if node.NORM == "SyncBN":
            node.NORM = "BN"
    cfg.freeze()
    return cfg


def _compile(module: ImageToProbabilities, example: torch.Tensor, method: str):
    """The TorchScript module; a traced one is checked at a second size first."""
    if method == "scripting":
        try:
            return torch.jit.script(module)
        except Exception as e:  # torch.jit raises several types for unsupported code
            raise InputError("--export-method scripting: this model cannot be scripted "
                             f"({str(e).strip().splitlines()[0]}); use --export-method tracing, "
                             "which keeps height and width dynamic") from None
    with warnings.catch_warnings():
        # The tracer warns where a shape becomes a Python number; the check below is what
        # tells whether the graph still follows the input's size.
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        traced = torch.jit.trace(module, example, check_trace=False)
    other = example_image(example.shape[2] + 23, example.shape[3] - 11)
    difference = float((traced(other) - module(other)).abs().max())
    if difference > TRACE_CHECK_ATOL:
        raise RuntimeError(f"the traced model differs from the model by {difference:.2e} at "
                           f"size {tuple(other.shape[2:])}: it is not size-independent")
    return traced


def _export_onnx(traced, example: torch.Tensor, path: Path) -> None:
    # The TorchScript-based exporter (dynamo=False): it needs no onnxscript, exports the traced
    # graph as it is, and keeps H and W symbolic; it warns that it is not the default.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", message="no signature found", category=UserWarning)
        torch.onnx.export(traced, (example,), str(path), dynamo=False, opset_version=ONNX_OPSET,
                          input_names=["image"], output_names=["probabilities"],
                          dynamic_axes={"image": {2: "height", 3: "width"},
                                        "probabilities": {2: "height", 3: "width"}})


def export_info(cfg, fmt: str, method: str, model_file: str, divisor: int) -> ExportInfo:
    """The sidecar of a model exported from ``cfg``: classes and colours of its first test (else
    train) dataset, input format, normalization, test size."""
    names, colors = [], []
    for dataset in tuple(cfg.DATASETS.TEST) + tuple(cfg.DATASETS.TRAIN):
        meta = MetadataCatalog.get(dataset)
        if meta.get("stuff_classes"):
            names, colors = list(meta.stuff_classes), [list(c) for c in meta.get("stuff_colors")]
            break
    return ExportInfo(
        format=fmt, export_method=method, model_file=model_file,
        input_format=cfg.INPUT.FORMAT, num_classes=cfg.MODEL.SEM_SEG_HEAD.NUM_CLASSES,
        class_names=names, class_colors=colors,
        pixel_mean=list(cfg.MODEL.PIXEL_MEAN), pixel_std=list(cfg.MODEL.PIXEL_STD),
        size_divisibility=int(divisor), min_size_test=cfg.INPUT.MIN_SIZE_TEST,
        max_size_test=cfg.INPUT.MAX_SIZE_TEST, torch_version=torch.__version__,
        opset=ONNX_OPSET if fmt == "onnx" else None)
