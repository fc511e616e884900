#!/usr/bin/env python
"""Ablation of the AGMM loss on the synthetic dataset: which term helps, which hurts, and which

The options are in ``--help``; the code is ``agmm_d2.benchmarking.ablation``.
"""
import sys

from agmm_d2.benchmarking.ablation import main

if __name__ == "__main__":
    sys.exit(main())
