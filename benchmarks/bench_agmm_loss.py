#!/usr/bin/env python
"""Time and memory of one forward+backward of the AGMM terms, against a plain vectorisation.

The options are in ``--help``; the code is ``agmm_d2.benchmarking.loss_speed``.
"""
import sys

from agmm_d2.benchmarking.loss_speed import main

if __name__ == "__main__":
    sys.exit(main())
