"""agmm_d2: sparsely annotated semantic segmentation with Adaptive Gaussian Mixtures.

Importing the package registers its meta-architecture and its built-in datasets.
"""
import warnings

# detectron2 scripts a few functions with torch.jit.script at import time; torch >= 2.10 warns
# on each. The warning is about detectron2's code, not the user's: keep the console readable.
warnings.filterwarnings("ignore", message="`torch.jit.script` is deprecated", category=FutureWarning)

from . import data  # noqa: F401  registers the built-in datasets
from . import modeling  # noqa: F401  registers the meta-architecture and the head
from .config import add_agmm_config

__all__ = ["add_agmm_config"]
