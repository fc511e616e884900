"""The JSON written beside an exported model: everything needed to run it without its config.

This module imports neither detectron2 nor the model code: the exported-model runner reads it.
"""
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import List, Optional

from ..utils.errors import InputError

__all__ = ["ExportInfo", "NOT_EXPORTED", "SIDECAR_SUFFIX", "sidecar_path"]

SIDECAR_SUFFIX = ".json"
# What the exported graph leaves out; the runner does whole-image inference only.
NOT_EXPORTED = ["test-time augmentation (TEST.AUG: multi-scale and flip)",
                "sliding-window inference (TEST.SLIDING_WINDOW)"]


@dataclass
class ExportInfo:
    """The fields of the sidecar JSON.

    Attributes:
        format: "torchscript" or "onnx".
        export_method: "tracing" or "scripting".
        model_file: the exported file's name, in the JSON's folder.
        input_name, output_name: the graph's tensor names (ONNX).
        input_format: channel order of the image, "RGB" or "BGR" (INPUT.FORMAT).
        input_layout: "(1, 3, H, W) uint8, values 0..255; H and W free".
        output_layout: "(1, K, H, W) float32 class probabilities; ids = argmax over dim 1".
        num_classes: K.
        class_names, class_colors: per class id, from the dataset's metadata (colours RGB).
        pixel_mean, pixel_std: the normalization inside the graph (for reference).
        size_divisibility: the graph pads to a multiple of this (inside the graph).
        min_size_test, max_size_test: resize the shorter edge to min_size_test, the longer at
            most to max_size_test, before the model (INPUT.MIN_SIZE_TEST; 0 = no resize); the
            probabilities are resized back to the image's size, as the PyTorch predictor does.
        opset: ONNX opset (None for TorchScript).
        torch_version: the torch that exported the file.
        not_exported: the inference options of the config that the graph does not contain.
    """

    format: str
    export_method: str
    model_file: str
    input_format: str
    num_classes: int
    class_names: List[str]
    class_colors: List[List[int]]
    pixel_mean: List[float]
    pixel_std: List[float]
    size_divisibility: int
    min_size_test: int
    max_size_test: int
    torch_version: str
    opset: Optional[int] = None
    input_name: str = "image"
    output_name: str = "probabilities"
    input_layout: str = "(1, 3, H, W) uint8, values 0..255; H and W free"
    output_layout: str = "(1, K, H, W) float32 class probabilities; ids = argmax over dim 1"
    not_exported: List[str] = field(default_factory=lambda: list(NOT_EXPORTED))

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def read(cls, path) -> "ExportInfo":
        """The sidecar at ``path``; InputError naming the file when it is missing or not one."""
        path = Path(path)
        try:
            data = json.loads(path.read_text())
            return cls(**data)
        except FileNotFoundError:
            raise InputError(f"{path}: no such file (the JSON that export_model.py writes "
                             "beside the exported model)") from None
        except (ValueError, TypeError) as e:
            raise InputError(f"{path}: not an export sidecar JSON ({e})") from None


def sidecar_path(model_file) -> Path:
    """``model.onnx`` -> ``model.onnx.json``: the sidecar of an exported file (one per file, so
    a TorchScript and an ONNX export can share a folder)."""
    path = Path(model_file)
    return path.with_name(path.name + SIDECAR_SUFFIX)
