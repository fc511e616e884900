"""Loading trained weights into a model for inference."""
from detectron2.checkpoint import DetectionCheckpointer

__all__ = ["load_weights"]


def load_weights(model, weights: str):
    """Load ``weights`` (a checkpoint file or URL) into ``model``; returns the model."""
    DetectionCheckpointer(model).load(weights)
    return model
