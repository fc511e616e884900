#!/usr/bin/env python
"""Sparse vs full supervision on the synthetic dataset: does AGMM beat partial cross-entropy,

The options are in ``--help``; the code is ``agmm_d2.benchmarking.sparse_vs_full``.
"""
import sys

from agmm_d2.benchmarking.sparse_vs_full import main

if __name__ == "__main__":
    sys.exit(main())
