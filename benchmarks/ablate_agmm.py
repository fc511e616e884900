#!/usr/bin/env python
"""Ablation of the AGMM loss on the synthetic dataset: which term helps, which hurts.

The options are in ``--help``; the code is ``agmm_benchmarks.ablate_agmm``
(benchmarks/agmm_benchmarks/, importable: a script's folder is the first entry of sys.path).
"""
import sys

from agmm_benchmarks.ablate_agmm import main

if __name__ == "__main__":
    sys.exit(main())
