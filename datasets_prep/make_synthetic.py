#!/usr/bin/env python
"""Generate the built-in synthetic sparse-label dataset (no download needed).

The options are in ``--help``; the code is ``agmm_d2.cli.make_synthetic``
(installed as ``agmm-make-synthetic``).
"""
import sys

from agmm_d2.cli.make_synthetic import main

if __name__ == "__main__":
    sys.exit(main())
