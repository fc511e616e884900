"""agmm_d2: sparsely annotated semantic segmentation with Adaptive Gaussian Mixtures.

Importing the package registers its meta-architecture and its built-in datasets.
"""
import warnings

# detectron2 scripts a few functions with torch.jit.script at import time; torch >= 2.10 warns
# on each. The warning is about detectron2's code, not the user's: it is silenced while this
# package imports detectron2, and the process's warning filters are left as they were.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="`torch.jit.script` is deprecated",
                            category=FutureWarning)
    from . import (
        data,  # noqa: F401  registers the built-in datasets
        modeling,  # noqa: F401  registers the meta-architecture and the head
    )

from .config import add_agmm_config  # noqa: E402

__all__ = ["add_agmm_config"]
