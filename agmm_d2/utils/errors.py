"""The error every entry point raises for input that cannot work (importable without detectron2,
so that the exported-model runner shares it)."""

__all__ = ["InputError"]


class InputError(ValueError):
    """A config, dataset, weights file or argument that cannot work; reported as one line."""
