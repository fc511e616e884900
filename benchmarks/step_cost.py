#!/usr/bin/env python
"""What AGMM costs per training step: the same model with MODEL.AGMM.ENABLED off and on.

The options are in ``--help``; the code is ``agmm_benchmarks.step_cost``
(benchmarks/agmm_benchmarks/, importable: a script's folder is the first entry of sys.path).
"""
import sys

from agmm_benchmarks.step_cost import main

if __name__ == "__main__":
    sys.exit(main())
