#!/usr/bin/env python
"""How much the demo's mIoU moves with the seed and the thread count, and how long it takes.

The options are in ``--help``; the code is ``agmm_benchmarks.demo_spread``
(benchmarks/agmm_benchmarks/, importable: a script's folder is the first entry of sys.path).
"""
import sys

from agmm_benchmarks.demo_spread import main

if __name__ == "__main__":
    sys.exit(main())
