"""agmm_d2: sparsely annotated semantic segmentation with Adaptive Gaussian Mixtures.

Importing the package registers its meta-architecture and its built-in datasets (where
detectron2 is installed; without it, only the runner of exported models is usable).
"""
import warnings

try:
    import detectron2  # noqa: F401
except ImportError:
    # Where detectron2 is not installed, only the exported-model runner (agmm_d2.predict.exported)
    # and the small helpers it uses are importable.
    __all__ = []
else:
    # detectron2 scripts a few functions with torch.jit.script at import time; torch >= 2.10
    # warns on each. The warning is about detectron2's code, not the user's: it is silenced while
    # this package imports detectron2, and the process's warning filters are left as they were.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="`torch.jit.script` is deprecated",
                                category=FutureWarning)
        from . import (
            data,  # noqa: F401  registers the built-in datasets
            modeling,  # noqa: F401  registers the meta-architecture and the head
        )
    from .config import add_agmm_config

    __all__ = ["add_agmm_config"]
