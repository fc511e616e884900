#!/usr/bin/env python
"""Segment your own images with a trained model; write class-id PNGs and colour masks.

The options are in ``--help``; the code is ``agmm_d2.cli.predict`` (installed as ``agmm-predict``).
"""
import sys

from agmm_d2.cli.predict import main

if __name__ == "__main__":
    sys.exit(main())
