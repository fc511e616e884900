"""Prediction on your own images: the detectron2 model in batches (``predictor``), an exported
TorchScript or ONNX model (``exported``), and the file handling every backend shares (``files``).

``agmm_d2.api.predict_folder`` is the one-call entry. Importable without detectron2: the
predictor's names are loaded on first use, and ``exported``, ``files`` and ``sidecar`` import no
detectron2.
"""
from .files import PredictionReport, find_images, output_names, save_png

_PREDICTOR_NAMES = ("BatchPredictor", "class_palette")


def __getattr__(name):
    if name in _PREDICTOR_NAMES:
        from . import predictor

        return getattr(predictor, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["BatchPredictor", "PredictionReport", "class_palette", "find_images", "output_names",
           "save_png"]
