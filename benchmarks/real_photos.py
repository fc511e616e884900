#!/usr/bin/env python
"""AGMM against partial cross-entropy on real photos (IDD-Lite road scenes).

The options are in ``--help``; the code is ``agmm_benchmarks.real_photos``
(benchmarks/agmm_benchmarks/, importable: a script's folder is the first entry of sys.path).
"""
import sys

from agmm_benchmarks.real_photos import main

if __name__ == "__main__":
    sys.exit(main())
