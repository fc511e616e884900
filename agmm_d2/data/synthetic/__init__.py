"""The built-in synthetic dataset: textured shapes with dense labels and the sparse labels made
from them (``generate``; ``datasets_prep/make_synthetic.py`` runs it, ``make data`` too)."""
from .generator import CLASSES, COLORS, DIRNAME, SPARSE_KINDS, generate, make_sample

__all__ = ["CLASSES", "COLORS", "DIRNAME", "SPARSE_KINDS", "generate", "make_sample"]
