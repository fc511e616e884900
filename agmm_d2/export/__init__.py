"""Export of a trained model to TorchScript or ONNX with a sidecar JSON; run the result with
``agmm_d2.predict.exported`` (no detectron2 needed there)."""
from .exporter import (
                       EXPORT_METHODS,
                       FORMATS,
                       ONNX_OPSET,
                       export_info,
                       export_model,
                       options_left_out,
)
from .module import ImageToProbabilities

__all__ = ["EXPORT_METHODS", "FORMATS", "ONNX_OPSET", "ImageToProbabilities", "export_info",
           "export_model", "options_left_out"]
