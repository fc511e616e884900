#!/usr/bin/env python
"""Look at what the model sees: image, labels, prediction and the AGMM response.

The options are in ``--help``; the code is ``agmm_d2.cli.visualize``
(installed as ``agmm-visualize``).
"""
import sys

from agmm_d2.cli.visualize import main

if __name__ == "__main__":
    sys.exit(main())
