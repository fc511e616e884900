#!/usr/bin/env python
"""What AGMM costs per training step: the same model with MODEL.AGMM.ENABLED off and on.

The options are in ``--help``; the code is ``agmm_d2.benchmarking.step_cost``.
"""
import sys

from agmm_d2.benchmarking.step_cost import main

if __name__ == "__main__":
    sys.exit(main())
