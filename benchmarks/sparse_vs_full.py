#!/usr/bin/env python
"""Sparse vs full supervision on the synthetic dataset.

The options are in ``--help``; the code is ``agmm_benchmarks.sparse_vs_full``
(benchmarks/agmm_benchmarks/, importable: a script's folder is the first entry of sys.path).
"""
import sys

from agmm_benchmarks.sparse_vs_full import main

if __name__ == "__main__":
    sys.exit(main())
