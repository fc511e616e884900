#!/usr/bin/env python
"""Time and memory of one forward+backward of the AGMM terms, against a plain vectorisation.

The options are in ``--help``; the code is ``agmm_benchmarks.bench_agmm_loss``
(benchmarks/agmm_benchmarks/, importable: a script's folder is the first entry of sys.path).
"""
import sys

from agmm_benchmarks.bench_agmm_loss import main

if __name__ == "__main__":
    sys.exit(main())
