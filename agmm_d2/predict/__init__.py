"""Prediction on your own images: find them, run the model in batches, write the class maps.

``agmm_d2.api.predict_folder`` is the one-call entry; these are its parts.
"""
from .predictor import (
                        BatchPredictor,
                        PredictionReport,
                        class_palette,
                        find_images,
                        output_names,
                        save_png,
)

__all__ = ["BatchPredictor", "PredictionReport", "class_palette", "find_images", "output_names",
           "save_png"]
