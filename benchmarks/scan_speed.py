#!/usr/bin/env python
"""Cost of the dataset scan that runs before training, without and with its cache.

The options are in ``--help``; the code is ``agmm_benchmarks.scan_speed``
(benchmarks/agmm_benchmarks/, importable: a script's folder is the first entry of sys.path).
"""
import sys

from agmm_benchmarks.scan_speed import main

if __name__ == "__main__":
    sys.exit(main())
