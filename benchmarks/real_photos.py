#!/usr/bin/env python
"""AGMM against partial cross-entropy on real photos: IDD-Lite road scenes (7 classes), sparse

The options are in ``--help``; the code is ``agmm_d2.benchmarking.real_photos``.
"""
import sys

from agmm_d2.benchmarking.real_photos import main

if __name__ == "__main__":
    sys.exit(main())
