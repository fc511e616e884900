"""The error every engine entry point raises for input that cannot work."""

__all__ = ["InputError"]


class InputError(ValueError):
    """A config, dataset, weights file or argument that cannot work; reported as one line."""
