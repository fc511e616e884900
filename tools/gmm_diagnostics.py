#!/usr/bin/env python
"""What the Gaussian-mixture response R teaches, measured on a trained model.

The options are in ``--help``; the code is ``agmm_d2.cli.gmm_diagnostics``
(installed as ``agmm-gmm-diagnostics``).
"""
import sys

from agmm_d2.cli.gmm_diagnostics import main

if __name__ == "__main__":
    sys.exit(main())
