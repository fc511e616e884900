#!/usr/bin/env python
"""Throughput of predict.py's backends on the CPU, one thread: torch, torchscript, onnxruntime.

The options are in ``--help``; the code is ``agmm_benchmarks.predict_backends``
(benchmarks/agmm_benchmarks/, importable: a script's folder is the first entry of sys.path).
"""
import sys

from agmm_benchmarks.predict_backends import main

if __name__ == "__main__":
    sys.exit(main())
