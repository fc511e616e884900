#!/usr/bin/env python
"""Export a trained model to TorchScript or ONNX, with a JSON that makes it usable alone.

The options are in ``--help``; the code is ``agmm_d2.cli.export_model``
(installed as ``agmm-export``).
"""
import sys

from agmm_d2.cli.export_model import main

if __name__ == "__main__":
    sys.exit(main())
